"""`interplay sample` builds its prompts as training does, from held-out profiles."""

from __future__ import annotations

from interplay.text.prompts import RECOMMENDER_SYSTEM_PROMPT
from interplay.training.sampling import format_point, sample_points

PROFILE = {
    "profile_id": "p1",
    "dialogue_id": "d1",
    "preference_summary": "You love slapstick comedies.",
    "target_attributes_text": "a comedy from the 2000s",
}
DIALOGUE = [
    {"role": "user", "content": "Hi, I want a comedy."},
    {"role": "recommender", "content": "Have you seen Super Troopers (2001)?"},
    {"role": "user", "content": "Yes! Something like that."},
    {"role": "recommender", "content": "Try Hot Fuzz (2007)."},
]


def test_user_points_condition_on_the_profile() -> None:
    points = sample_points("user", [PROFILE], {"d1": DIALOGUE}, "[END]", "[ACCEPT]")
    assert [p.turn for p in points] == [0, 2]
    system = points[0].conversation[0]
    assert system["role"] == "system" and "slapstick" in system["content"] and "[END]" in system["content"]
    assert points[1].conversation[-1] == {"role": "user", "content": DIALOGUE[1]["content"]}
    assert points[1].real == "Yes! Something like that."
    assert "generated" in format_point(points[1], "Sounds great [END]", "user")


def test_recommender_points_carry_no_profile() -> None:
    points = sample_points("recommender", [PROFILE], {"d1": DIALOGUE}, "[END]", "[ACCEPT]")
    assert [p.turn for p in points] == [1, 3]
    assert points[0].conversation[0]["content"] == RECOMMENDER_SYSTEM_PROMPT
    assert points[0].conversation[-1]["role"] == "user"
