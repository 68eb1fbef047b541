"""How messy the simulated Hub's repos are: the share of repos missing each piece of metadata.

Community GGUF uploads often lack a license, a base model, a pipeline tag or a model card, or name
their files so that no quantization can be read from them. A sync must cope with all of that at the
rates it meets on the Hub, not just once, so the generator makes these shares of repos messy on top
of the one-of-each edge cases it always plants. The defaults are assumptions about the real Hub,
argued in docs/simulator.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Realism:
    """Shares (0..1) of repos with each quirk, drawn per repo from the seed.

    Shares are of all generated repos unless said otherwise; `Realism()` is the realistic default.
    A repo without a card has neither license nor base model, so `no_license` and `no_base_model`
    count card-less repos too and must be at least `no_card`.
    """

    no_license: float = 0.25
    """Neither a `license` in the card nor a `license:` tag."""
    no_base_model: float = 0.15
    """No `base_model` in the card and no `base_model:` tags."""
    no_pipeline_tag: float = 0.10
    """No `pipeline_tag`, in the card, the tags or the model info."""
    no_gguf_summary: float = 0.05
    """No `gguf` property although the repo is tagged `gguf` and holds GGUF files (the Hub did not
    parse them); among such repos. Untagged repos and those without GGUF files never get one."""
    no_card: float = 0.08
    """No README.md at all, hence no `cardData`."""
    odd_file_names: float = 0.05
    """GGUF files named without a quantization label (`model.gguf`, `Name.gguf`, `Name-q4km.gguf`);
    among repos holding GGUF files at all."""
    license_card_only: float = 0.09
    """A license in the card, but no `license:` tag; among repos with a license."""
    license_tag_only: float = 0.08
    """A `license:` tag, but no license in the card; among repos with a license."""
    base_model_list: float = 0.18
    """`base_model` given as a one-element list rather than a string; among repos with a base model."""
    untagged: float = 0.015
    """No `gguf` tag, hence no `library_name` either: listings filtered on `gguf` miss the repo."""
    no_gguf_files: float = 0.015
    """Named like a GGUF repo, but holding no .gguf file."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{field.name} must be between 0 and 1, not {value}")
        if self.no_license < self.no_card or self.no_base_model < self.no_card:
            raise ValueError("no_license and no_base_model must be at least no_card (no card, no license)")
        if self.license_card_only + self.license_tag_only > 1.0:
            raise ValueError("license_card_only and license_tag_only must add up to at most 1")

    @classmethod
    def tidy(cls) -> Realism:
        """Every share zero: only the planted edge cases (one of each) are messy."""
        return cls(**{field.name: 0.0 for field in dataclasses.fields(cls)})
