/** The Shannon panel's estimate of how long the model's column has left (drive: 18 of 5,000 characters after a minute, no hint). */
import * as assert from 'assert';
import { PlayClock } from '../../src/webview/playClock';

describe('the Shannon game’s time left for the model', () => {
  it('says nothing until it has a speed, or when the rest takes under a minute', () => {
    let t = 0;
    const clock = new PlayClock(() => t);
    assert.strictEqual(clock.timeLeft(0, 100), '');
    t = 1000;
    assert.strictEqual(clock.timeLeft(50, 100), '', 'under 3 s of timing');
    t = 4000;
    assert.strictEqual(clock.timeLeft(80, 100), '', '20 characters at 20 a second');
  });

  it('gives minutes, then hours with advice, from the speed since the text was set; a new text restarts it', () => {
    let t = 0;
    const clock = new PlayClock(() => t);
    clock.timeLeft(0, 5000);
    t = 60_000;
    // 18 characters a minute: 4,982 left is about 277 minutes.
    assert.match(clock.timeLeft(18, 5000), /About 5 hours left at this speed: a smaller model, or a shorter text, plays faster\./);
    t = 120_000;
    assert.strictEqual(clock.timeLeft(36, 300), '', 'a new text: timed anew');
    t = 130_000;
    // 10 characters in 10 s: 254 left is about 4 minutes.
    assert.strictEqual(clock.timeLeft(46, 300), ' About 4 minutes left at this speed.');
    assert.strictEqual(clock.timeLeft(300, 300), '', 'done');
    // 90 s left: one minute, in the singular (drive-gguf4 10: "About 1 minutes left").
    t = 140_000;
    clock.timeLeft(0, 100);
    t = 150_000;
    assert.strictEqual(clock.timeLeft(10, 100), ' About 2 minutes left at this speed.');
    t = 151_000;
    assert.strictEqual(clock.timeLeft(14, 100), ' About 1 minute left at this speed.');
  });
});
