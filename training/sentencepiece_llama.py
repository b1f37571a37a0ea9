"""A SentencePiece BPE tokenizer with byte fallback, as Llama 2, TinyLlama and Mistral ship theirs:
trains a real SentencePiece model (the reference tokenizer) and writes the Hugging Face
tokenizer.json that the hub's Llama-2 repositories carry beside tokenizer.model.

Layout of that tokenizer.json: normalizer Prepend "▁" then Replace " " -> "▁"; no pre-tokenizer;
a BPE model with byte_fallback whose merges are recovered from the SentencePiece vocabulary (each
piece that is the concatenation of two pieces is a merge, ranked by the piece's id, which is its
SentencePiece score order); decoder Replace "▁" -> " ", ByteFallback, Fuse, Strip one leading space.
"""
import io

import sentencepiece as spm

UNK, BOS, EOS = "<unk>", "<s>", "</s>"


def train(lines, vocab_size):
    """Returns the serialized SentencePiece model trained on an iterable of lines."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        # Llama's settings: no normalization, spaces kept as they are, a dummy prefix, digits apart.
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        character_coverage=0.9995,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return model.getvalue()


def processor(model_bytes):
    return spm.SentencePieceProcessor(model_proto=model_bytes)


def added_token(id_, content):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}


def merges_from_vocab(vocab):
    merges = []
    for piece, id_ in vocab.items():
        for k in range(1, len(piece)):
            a, b = piece[:k], piece[k:]
            if a in vocab and b in vocab:
                merges.append((id_, vocab[a], vocab[b], a, b))
    merges.sort()
    return [f"{a} {b}" for _, _, _, a, b in merges]


def tokenizer_json(sp):
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added_token(sp.piece_to_id(t), t) for t in (UNK, BOS, EOS)],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": "▁"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            ],
        },
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [
                {"SpecialToken": {"id": BOS, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": BOS, "type_id": 1}},
                {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {BOS: {"id": BOS, "ids": [sp.piece_to_id(BOS)], "tokens": [BOS]}},
        },
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ],
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": UNK,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges_from_vocab(vocab),
        },
    }


def tokenizer_config(sp, max_length):
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {
            str(sp.piece_to_id(t)): {k: v for k, v in added_token(0, t).items() if k != "id"} for t in (UNK, BOS, EOS)
        },
        "bos_token": BOS,
        "clean_up_tokenization_spaces": False,
        "eos_token": EOS,
        "legacy": False,
        "model_max_length": max_length,
        "pad_token": None,
        "padding_side": "right",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": UNK,
        "use_default_system_prompt": False,
    }
