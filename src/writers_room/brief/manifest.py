"""The shot manifest: the single source of truth for an episode's timing and look.

The analyst maps retention seconds to shots through it, the producer writes a new one
for each approved brief version, and the render pipeline turns it into video.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Shot", "ShotManifest"]

# Vertical 9:16 sizes the pipeline renders; other sizes are refused with this list.
MAX_SIDE = 4096


class Shot(BaseModel):
    """One shot of an episode."""

    model_config = ConfigDict(extra="ignore")

    shot_id: str = Field(min_length=1, description="Unique id of the shot within the episode.")
    start_s: float = Field(ge=0, description="Start time in seconds from the episode start.")
    duration_s: float = Field(gt=0, le=60, description="Duration in seconds.")
    camera: str = Field(default="", description="Camera move or lens, e.g. 'slow push-in'.")
    action: str = Field(default="", description="What happens on screen.")
    mood: str = Field(default="", description="Emotional colour of the shot.")
    framing: str = Field(default="", description="Vertical-safe framing, e.g. 'close-up'.")
    caption: str = Field(default="", description="On-screen caption text.")
    dialogue: str = Field(default="", description="Spoken line(s), if any.")
    characters: list[str] = Field(default_factory=list, description="Characters in the shot.")
    keyframe_prompt: str = Field(default="", description="Prompt for the keyframe renderer.")
    seed: int = Field(default=0, ge=0, description="Seed for reproducible keyframes.")

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class ShotManifest(BaseModel):
    """An episode's shots with their timings (``manifest.json``)."""

    model_config = ConfigDict(extra="ignore")

    series_id: str = Field(min_length=1)
    episode_id: str = Field(min_length=1)
    brief_version: int = Field(default=1, ge=1)
    fps: int = Field(default=30, ge=1, le=120)
    width: int = Field(default=1080, ge=16, le=MAX_SIDE)
    height: int = Field(default=1920, ge=16, le=MAX_SIDE)
    shots: list[Shot] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_timeline(self) -> ShotManifest:
        if self.width % 2 or self.height % 2:
            raise ValueError(
                f"width and height must be even for H.264, got {self.width}x{self.height}"
            )
        if self.height <= self.width:
            raise ValueError(
                f"the manifest must be vertical (height > width), got {self.width}x{self.height}"
            )
        seen: set[str] = set()
        expected = 0.0
        for index, shot in enumerate(self.shots):
            if shot.shot_id in seen:
                raise ValueError(f"shots[{index}].shot_id {shot.shot_id!r} is used twice")
            seen.add(shot.shot_id)
            if abs(shot.start_s - expected) > 1e-6:
                raise ValueError(
                    f"shots[{index}] ({shot.shot_id!r}).start_s is {shot.start_s:g} but the "
                    f"previous shot ends at {expected:g}; shots must be contiguous"
                )
            expected = shot.end_s
        return self

    @property
    def runtime_s(self) -> float:
        """Episode runtime: the sum of shot durations."""
        return sum(shot.duration_s for shot in self.shots)

    def shot_at(self, second: float) -> Shot:
        """The shot playing at ``second`` (the last shot for times past the end)."""
        for shot in self.shots:
            if shot.start_s <= second < shot.end_s:
                return shot
        return self.shots[-1]
