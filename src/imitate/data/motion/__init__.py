"""Motion clips (DeepMimic format, converted to our Z-up humanoid), the motion library, and motion
data sets (weighted lists of clips)."""

from imitate.data.motion.clip import MotionClip, MotionError, available_clips, load_clip
from imitate.data.motion.dataset import MotionDataset, resolve_motion, shipped_datasets
from imitate.data.motion.library import MotionLibrary, MotionState

__all__ = [
    "MotionClip",
    "MotionDataset",
    "MotionError",
    "MotionLibrary",
    "MotionState",
    "available_clips",
    "load_clip",
    "resolve_motion",
    "shipped_datasets",
]
