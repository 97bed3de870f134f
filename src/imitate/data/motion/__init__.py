"""Motion clips (DeepMimic format, converted to our Z-up humanoid) and the motion library."""

from imitate.data.motion.clip import MotionClip, MotionError, available_clips, load_clip
from imitate.data.motion.library import MotionLibrary, MotionState

__all__ = ["MotionClip", "MotionError", "MotionLibrary", "MotionState", "available_clips", "load_clip"]
