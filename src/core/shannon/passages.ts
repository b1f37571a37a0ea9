/** Built-in texts for the Shannon game: short public-domain passages, and Shannon's own example. */
export interface Passage {
  title: string;
  text: string;
}

export const PASSAGES: readonly Passage[] = [
  {
    title: 'Shannon (1951): the motorcycle sentence',
    text: 'There is no reverse on a motorcycle. A friend of mine found this out rather dramatically the other day.',
  },
  {
    title: 'Melville, Moby-Dick (1851), opening',
    text: 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.',
  },
  {
    title: 'Dickens, A Tale of Two Cities (1859), opening',
    text: 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness.',
  },
  {
    title: "Austen, Pride and Prejudice (1813), opening: in the embedded models' training text",
    text: 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.',
  },
];
