"""What annotators judge and how Label Studio asks them: the criteria and the labeling configuration.

The criteria are the paper's three (user control, conversational flow, naturalness) plus the
question the reference-free claim turns on, which conversation is more like a real one. Each is
answered A, B or tie. The configuration and the analysis both read :data:`CRITERIA`, so a
criterion asked is a criterion analyzed.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

#: The answers of every criterion, as Label Studio stores them in an annotation's ``choices``.
CHOICES: tuple[str, ...] = ("A", "B", "tie")


@dataclass(frozen=True)
class Criterion:
    """One question: its name in the export (``from_name``), a short title and the question."""

    name: str
    title: str
    question: str


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "user_control", "User control",
        "In which conversation does the seeker steer the conversation toward what they want "
        "(states preferences, reacts to suggestions, accepts or declines)?",
    ),
    Criterion(
        "conversational_flow", "Conversational flow",
        "Which conversation flows better: each turn follows from the previous one, without "
        "repetition, contradiction or abrupt jumps?",
    ),
    Criterion(
        "naturalness", "Naturalness",
        "Which conversation reads more like something people would write (wording, length, tone)?",
    ),
    Criterion(
        "realism", "More like a real conversation",
        "Which is more like a real conversation between two people looking for a movie?",
    ),
)

#: Speaker labels shown to annotators (both systems use the same, so they give nothing away).
SPEAKERS: dict[str, str] = {"user": "Seeker", "recommender": "Recommender"}


def labeling_config() -> str:
    """Label Studio's labeling configuration (XML) for one pairwise task: the seeker's profile,
    conversations A and B side by side, and one A / B / tie question per criterion, each required."""
    questions = "\n".join(
        f'    <Header value={quoteattr(f"{c.title}: {c.question}")}/>\n'
        f'    <Choices name="{c.name}" toName="dialogue_a" choice="single-radio" required="true" showInline="true">\n'
        + "".join(f'      <Choice value="{value}"/>\n' for value in CHOICES)
        + "    </Choices>"
        for c in CRITERIA
    )
    return (
        "<View>\n"
        '  <Header value="What the seeker wanted"/>\n'
        '  <Text name="profile" value="$profile"/>\n'
        '  <View style="display: flex; gap: 1em;">\n'
        '    <View style="flex: 50%;">\n'
        '      <Header value="Conversation A"/>\n'
        '      <Paragraphs name="dialogue_a" value="$dialogue_a" layout="dialogue" nameKey="author" textKey="text"/>\n'
        "    </View>\n"
        '    <View style="flex: 50%;">\n'
        '      <Header value="Conversation B"/>\n'
        '      <Paragraphs name="dialogue_b" value="$dialogue_b" layout="dialogue" nameKey="author" textKey="text"/>\n'
        "    </View>\n"
        "  </View>\n"
        "  <View>\n"
        f"{questions}\n"
        "  </View>\n"
        "</View>\n"
    )
