"""Several dialogues per seed profile (``simulation.samples_per_profile``).

A run simulates *samples*: a profile and a sample index. Sample 0 of a profile is keyed by the
profile id alone, so a run of one sample per profile orders its profiles, draws its openers and
names its dialogues exactly as before samples existed; sample ``k >= 1`` is keyed
``<profile_id>-s<k>``. The key, hashed with the run's seed, is the sample's own seed: it places the
sample in the run's order (and so in a shard and a batch, whose seed its tokens are drawn from)
and draws its opener under ``simulation.user_opens_share``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interplay.preprocess.profiles import Profile
from interplay.preprocess.splits import unit_hash
from interplay.simulation.records import sample_key


@dataclass(frozen=True)
class Sample:
    """One dialogue to simulate: its seed profile and which of that profile's dialogues it is."""

    profile: Profile
    index: int = 0

    @property
    def key(self) -> str:
        return sample_key(self.profile.profile_id, self.index)


def as_sample(item: Profile | Sample) -> Sample:
    """A plan may hold bare profiles (one dialogue each, sample 0) or samples."""
    return item if isinstance(item, Sample) else Sample(item)


def sample_order(seed: int, key: str) -> tuple[float, str]:
    """Where a sample stands in a run's seeded order (the profile order for sample 0)."""
    return unit_hash(seed, key), key


def expand(profiles: Sequence[Profile], per_profile: int, seed: int) -> list[Sample]:
    """``per_profile`` samples of each profile, in the seeded order of their keys: the samples of
    one profile spread over the run's shards instead of sharing a batch."""
    samples = [Sample(profile, k) for profile in profiles for k in range(per_profile)]
    return sorted(samples, key=lambda s: sample_order(seed, s.key))
