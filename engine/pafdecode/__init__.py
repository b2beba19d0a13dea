"""pafdecode: a compiled bottom-up pose decoder.

Turns the keypoint heatmaps and Part Affinity Fields of an OpenPose-style network into
people: peak finding with sub-pixel refinement, PAF line-integral limb scoring, greedy or
optimal limb assignment and assembly into skeletons, in C with the GIL released.
"""

from importlib import metadata as _metadata

from .skeleton import Skeleton
from .backends import available_backends
from .config import DecoderConfig
from .decoder import Decoder, Poses
from .model import OnnxPoseModel
from .tracker import Tracker
from .draw import draw
from .io import load_image, save_image
from . import io, metrics, postprocess, synth, transforms

__version__ = _metadata.version("pafdecode")   # one source: pyproject.toml
__all__ = ["Decoder", "DecoderConfig", "OnnxPoseModel", "Poses", "Skeleton", "Tracker",
           "available_backends", "draw", "io", "load_image", "metrics", "postprocess",
           "save_image", "synth", "transforms", "__version__"]
