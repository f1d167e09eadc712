"""HAD distillation: ``teacher:``/``distill:`` sections, losses, schedules, teacher training, the 4-stage trainer."""

from had_hls.distill.config import DistillSection, TeacherSection

__all__ = ["DistillSection", "TeacherSection"]
