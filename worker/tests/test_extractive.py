"""The extractive summariser picks representative sentences, deterministically."""

import pytest

from summaries.providers import PermanentProviderError
from summaries.providers.extractive import (
    ExtractiveProvider,
    split_sentences,
    summarise_text,
)

ARTICLE = """
Honeybees communicate the location of food through the waggle dance.
A forager returning to the hive dances on the vertical comb in a figure-eight pattern.
The angle of the waggle run encodes the direction of the food relative to the sun.
My neighbour keeps chickens, which are loud in the morning.
The duration of the waggle run encodes the distance to the food.
Other bees follow the dancer and learn the direction and distance of the food.
The weather was pleasant last Tuesday.
"""


def test_sentences_split_on_terminal_punctuation_and_blank_lines():
    text = 'He said "Go." Then he left! Did she?\n\nYes e.g. this stays one sentence'
    assert split_sentences(text) == [
        'He said "Go."',
        "Then he left!",
        "Did she?",
        "Yes e.g. this stays one sentence",
    ]


def test_the_summary_keeps_the_topical_sentences_in_document_order():
    summary = summarise_text(ARTICLE, max_sentences=3)
    chosen = split_sentences(summary)
    assert len(chosen) == 3
    assert all("food" in sentence or "waggle" in sentence for sentence in chosen)
    assert "chickens" not in summary and "weather" not in summary
    positions = [ARTICLE.index(sentence) for sentence in chosen]
    assert positions == sorted(positions)


def test_it_is_an_extract_not_a_truncation():
    summary = summarise_text(ARTICLE, max_sentences=2)
    assert not ARTICLE.strip().startswith(summary)
    for sentence in split_sentences(summary):
        assert sentence in " ".join(ARTICLE.split())


def test_the_same_text_always_gives_the_same_summary():
    assert len({summarise_text(ARTICLE) for _ in range(5)}) == 1


def test_a_short_text_is_its_own_summary():
    assert summarise_text("One sentence.  Two   sentences.") == "One sentence. Two sentences."


def test_a_text_without_sentences_is_a_permanent_error():
    with pytest.raises(PermanentProviderError):
        ExtractiveProvider().summarise(title="t", text="   \n\n  ")


def test_the_model_name_records_the_setting():
    summary = ExtractiveProvider(max_sentences=2).summarise(title="t", text=ARTICLE)
    assert summary.model == "extractive-v1/2"
    assert len(split_sentences(summary.text)) == 2
