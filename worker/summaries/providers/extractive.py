"""A local extractive summariser: picks the document's most representative sentences.

Deterministic, no network, no model download. Each sentence is scored by the document-wide
frequency of its content words (stop words excluded), normalised by its length so long
sentences do not win by size alone, with a small bonus for the opening sentence, where
writers tend to state their point. The best sentences are returned in document order.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from .base import PermanentProviderError, Summary

# A sentence ends at . ! or ? (with any closing quotes or brackets) when whitespace and a
# capital or digit follow, or at a blank line. Abbreviations like "e.g. the" stay inside a
# sentence: the next word is lowercase.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n\s*\n")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "one",
        "may",
        "might",
        "must",
        "shall",
        "us",
        "its",
        "it's",
        "i'm",
    ]
)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, with whitespace inside each collapsed."""
    parts, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        parts.append(text[start : end.end()])
        start = end.end()
    parts.append(text[start:])
    return [" ".join(part.split()) for part in parts if part.strip()]


def content_words(sentence: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(sentence)) if w not in STOP_WORDS]


def summarise_text(text: str, max_sentences: int = 3) -> str:
    """Return the ``max_sentences`` highest-scoring sentences of ``text``, in order."""
    sentences = split_sentences(text)
    if len(sentences) <= max_sentences:
        return " ".join(sentences)
    words = [content_words(sentence) for sentence in sentences]
    frequency = Counter(word for sentence_words in words for word in sentence_words)
    top = max(frequency.values(), default=1)

    def score(index: int) -> float:
        sentence_words = words[index]
        if not sentence_words:
            return 0.0
        weight = sum(frequency[word] / top for word in sentence_words)
        # sqrt: longer sentences carry more information, but not linearly more.
        value = weight / math.sqrt(len(sentence_words))
        return value * (1.25 if index == 0 else 1.0)

    # Ties go to the earlier sentence, so the result never depends on anything but the text.
    ranked = sorted(range(len(sentences)), key=lambda i: (-score(i), i))
    chosen = sorted(ranked[:max_sentences])
    return " ".join(sentences[i] for i in chosen)


class ExtractiveProvider:
    name = "extractive"

    def __init__(self, max_sentences: int = 3) -> None:
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self.max_sentences = max_sentences
        self.model = f"extractive-v1/{max_sentences}"

    def summarise(self, *, title: str, text: str) -> Summary:
        summary = summarise_text(text, self.max_sentences)
        if not summary:
            raise PermanentProviderError("the document has no sentences to summarise")
        return Summary(text=summary, model=self.model)
