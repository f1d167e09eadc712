"""HAD distillation: ``teacher:``/``distill:`` sections, losses, schedules, teacher training, the 4-stage trainer."""

from had_hls.distill import config as _config  # noqa: F401  (registers the teacher: and distill: sections)
from had_hls.distill.config import DistillSection, TeacherSection

__all__ = ["DistillSection", "TeacherSection"]
