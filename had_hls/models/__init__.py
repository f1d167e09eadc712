"""Model definitions (teachers, students) and checkpoint I/O."""

from had_hls.models.checkpoint import attention_layers, load_checkpoint, save_checkpoint
from had_hls.models.vit import TinyViT, ViTConfig

__all__ = ["TinyViT", "ViTConfig", "attention_layers", "load_checkpoint", "save_checkpoint"]
