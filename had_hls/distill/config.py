"""The ``teacher:`` and ``distill:`` sections of a project YAML (listed in :data:`had_hls.project.SECTIONS`).

Every knob has a default, so both sections may be left out; ``model:`` (seq_len, embed_dim, num_heads, top_n) gives
the transformer's attention shape, and these sections give the rest.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from had_hls.config import ConfigError, ModelSection

STAGES = (1, 2, 3, 4)


@dataclass(frozen=True)
class TeacherSection:
    """``teacher:`` the full-precision teacher (a small ViT trained here, or the pretrained MiniLM fine-tuned here)
    and its data.

    checkpoint      : a trained teacher checkpoint (had-hls format); null = train one into projects/<name>/teacher.pt,
                      cached: reused while this section and ``model:`` are unchanged.
    dataset         : fashion_mnist (splits: had_hls.data.fashion_mnist: train 55k / val 5k / test 10k, fixed);
                      bbc or tweets (text: had_hls.data.bbc / had_hls.data.tweets; needs arch: minilm);
                      listops (synthetic, seeded: had_hls.data.listops and the ``listops:`` section; arch: vit in
                      token mode: model.seq_len tokens, patch_size unused).
    arch            : vit (TinyViT from scratch: patch_size, depth, mlp_dim, pool, activation apply) or minilm
                      (pretrained all-MiniLM-L6-v2, had_hls.models.minilm, fine-tuned for ``epochs`` with a new
                      head; model.seq_len = max_len in tokens (<= 512), model.embed_dim 384, model.num_heads 12).
    patch_size      : P; the ViT cuts 28x28 images into (28/P)^2 patches = model.seq_len tokens (+1 if pool: cls).
    depth           : number of pre-LN encoder blocks (attention layers).
    mlp_dim         : hidden width of each block's MLP.
    pool            : mean (mean of the final tokens) or cls (a learned CLS token).
    activation      : gelu or relu in the MLP.
    epochs, batch_size, lr, weight_decay, warmup_steps: AdamW, linear warm-up then cosine decay to 0.
    label_smoothing : CE label smoothing.
    augment         : random shifts by up to 2 pixels (zero padded) during teacher training.
    seed            : initialisation and data order.
    train_limit     : use only the first N training images (fast tests; null = all 55,000).
    test_limit      : use only the first N val and test images (fast tests; null = all).
    """

    checkpoint: str | None = None
    dataset: Literal["fashion_mnist", "bbc", "tweets", "listops"] = "fashion_mnist"
    arch: Literal["vit", "minilm"] = "vit"
    patch_size: int = 4
    depth: int = 2
    mlp_dim: int = 128
    pool: Literal["mean", "cls"] = "mean"
    activation: Literal["gelu", "relu"] = "gelu"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 200
    label_smoothing: float = 0.0
    augment: bool = False
    seed: int = 0
    train_limit: int | None = None
    test_limit: int | None = None

    def validate(self, path: str) -> None:
        for key in ("patch_size", "depth", "mlp_dim", "epochs", "batch_size"):
            _at_least(getattr(self, key), 1, f"{path}.{key}")
        if 28 % self.patch_size:
            raise ConfigError(f"{path}.patch_size: {self.patch_size} is not allowed: must divide 28 (1, 2, 4, 7, 14)")
        _positive_float(self.lr, f"{path}.lr")
        _at_least(self.weight_decay, 0, f"{path}.weight_decay")
        _at_least(self.warmup_steps, 0, f"{path}.warmup_steps")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"{path}.label_smoothing: {self.label_smoothing} is not allowed: must be in [0, 1)")
        for key in ("train_limit", "test_limit"):
            if getattr(self, key) is not None:
                _at_least(getattr(self, key), 1, f"{path}.{key}")

    def seq_len(self) -> int:
        """Tokens per example of the image ViT (the text models take model.seq_len as their max_len)."""
        return (28 // self.patch_size) ** 2 + (1 if self.pool == "cls" else 0)

    def listops_len(self, model: ModelSection) -> int:
        """ListOps: tokens of an example (model.seq_len, less one for a CLS token)."""
        return model.seq_len - (1 if self.pool == "cls" else 0)

    def check_model(self, model: ModelSection) -> None:
        """Cross-section rule: the ViT's token count must equal model.seq_len; MiniLM's shape is fixed."""
        text = self.dataset in ("bbc", "tweets")
        if text != (self.arch == "minilm"):
            raise ConfigError(
                f"teacher.dataset: {self.dataset} is not allowed with teacher.arch: {self.arch} "
                "(fashion_mnist and listops need arch: vit; bbc and tweets need arch: minilm)"
            )
        if self.dataset == "listops":
            if self.listops_len(model) < 4:
                raise ConfigError(
                    f"model.seq_len: {model.seq_len} is not allowed with dataset listops: need >= 4 expression tokens"
                )
            return
        if self.arch == "minilm":
            for key, want in (("embed_dim", 384), ("num_heads", 12)):
                if getattr(model, key) != want:
                    raise ConfigError(
                        f"model.{key}: {getattr(model, key)} is not allowed with arch minilm: must be {want}"
                    )
            if model.seq_len > 512:
                raise ConfigError(f"model.seq_len: {model.seq_len} is not allowed with arch minilm: must be <= 512")
            return
        if self.seq_len() != model.seq_len:
            raise ConfigError(
                f"model.seq_len: {model.seq_len} does not match the ViT of teacher.patch_size={self.patch_size}, "
                f"teacher.pool={self.pool}: (28/{self.patch_size})^2{' + 1' if self.pool == 'cls' else ''} = "
                f"{self.seq_len()} tokens"
            )

    def fingerprint(self) -> dict[str, Any]:
        """What determines a trained teacher (everything but ``checkpoint``)."""
        d = asdict(self)
        d.pop("checkpoint")
        return d


@dataclass(frozen=True)
class DistillSection:
    """``distill:`` the 4-stage HAD schedule (student = copy of the teacher; its attention is HammingAttention).

    Stage 0 (calibration): sigma_Q, sigma_K = mean over ``calib_batches`` training batches of std(Q), std(K).
    Stage 1: scaled tanh, c: c_start -> c_mid.   Stage 2: scaled tanh, c: c_mid -> c_end.       (top-N off)
    Stage 3: straight-through sign, top-N on.     Stage 4: straight-through sign, top-N on, output loss only.
    The shipped student runs ``hard`` sign with top-N (its forward equals stage 3/4's).

    Loss (stages 1-3):  attn_weight * KL_attn + out_weight * T^2 KL(softmax(z_t/T) || softmax(z_s/T)) + ce_weight * CE
    Loss (stage 4):                            out_weight * T^2 KL(...) + ce_weight * CE
    KL_attn = mean over layers, heads, batch and (unpadded) query rows of KL(softmax(t_row) || softmax(s_row)) over
    the keys, on logits *before* top-N. ``attn_kl`` says how top-N is handled (the student's masked softmax is 0
    outside the kept keys, so KL(teacher || masked student) would be infinite):
      student_unmasked     : the student's softmax over all (unpadded) keys, before the top-N mask (default);
      teacher_renormalized : both restricted to the student's kept keys, the teacher renormalized over them.

    seed          : data order of every stage (stage k uses seed*1000 + k): a rerun or a resume is bit-identical.
    batch_size    : training batch.                   calib_batches : batches for sigma calibration (>= 1).
    steps         : optimizer steps of stages 1..4 (0 skips a stage, e.g. [0, 0, 1200, 400] skips stages 1-2).
    lr            : AdamW learning rate of stages 1..4; each stage restarts AdamW and decays per ``lr_schedule``.
    lr_schedule   : constant, or cosine (to 0 at the stage's last step).       weight_decay: AdamW weight decay.
    c_start, c_mid, c_end, c_decay: the tanh temperature; within a stage of S steps, step s in 0..S-1 uses
                    p = s/(S-1) (p = 1 when S = 1) and c = a (b/a)^p (exponential) or a + (b - a) p (linear).
    attn_weight, out_weight, ce_weight: loss weights (>= 0); temperature: T of the output KL (> 0).
    top_n         : N kept keys per query in stages 3-4 and in the shipped student; null = model.top_n.
    top_n_ratio   : instead of a fixed N: N = ceil(top_n_ratio * L), at least 1 (N scales linearly with L).
    use_top_n     : false = no top-N at all (ablation).
    binarize_attention: true = ablation: the attention matrix A itself is binarized from stage 3 on (uniform 1/n over
                    the kept keys, straight-through to the softmax; had_hls.distill.ablations); not a hardware target.
    eval_batch_size: batch for validation/test accuracy.  device: auto (cuda if available), cpu or cuda.
    """

    seed: int = 0
    batch_size: int = 128
    calib_batches: int = 100
    steps: list[int] = field(default_factory=lambda: [300, 300, 600, 400])
    lr: list[float] = field(default_factory=lambda: [5e-4, 5e-4, 5e-4, 2e-4])
    lr_schedule: Literal["constant", "cosine"] = "cosine"
    weight_decay: float = 0.0
    c_start: float = 5.0
    c_mid: float = 1.0
    c_end: float = 0.05
    c_decay: Literal["exponential", "linear"] = "exponential"
    attn_weight: float = 1.0
    out_weight: float = 1.0
    ce_weight: float = 0.0
    temperature: float = 2.0
    attn_kl: Literal["student_unmasked", "teacher_renormalized"] = "student_unmasked"
    top_n: int | None = None
    top_n_ratio: float | None = None
    use_top_n: bool = True
    binarize_attention: bool = False
    eval_batch_size: int = 1000
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def validate(self, path: str) -> None:
        _at_least(self.batch_size, 1, f"{path}.batch_size")
        _at_least(self.calib_batches, 1, f"{path}.calib_batches")
        _at_least(self.eval_batch_size, 1, f"{path}.eval_batch_size")
        if len(self.steps) != 4:
            raise ConfigError(f"{path}.steps: {self.steps} is not allowed: give 4 step counts, one per stage")
        for i, s in enumerate(self.steps):
            _at_least(s, 0, f"{path}.steps[{i}]")
        if len(self.lr) != 4:
            raise ConfigError(f"{path}.lr: {self.lr} is not allowed: give 4 learning rates, one per stage")
        for i, lr in enumerate(self.lr):
            _positive_float(lr, f"{path}.lr[{i}]")
        _at_least(self.weight_decay, 0, f"{path}.weight_decay")
        for key in ("c_start", "c_mid", "c_end", "temperature"):
            _positive_float(getattr(self, key), f"{path}.{key}")
        if not self.c_start >= self.c_mid >= self.c_end:
            raise ConfigError(
                f"{path}.c_mid: {self.c_mid} is not allowed: need c_start >= c_mid >= c_end "
                f"(got {self.c_start}, {self.c_mid}, {self.c_end})"
            )
        for key in ("attn_weight", "out_weight", "ce_weight"):
            _at_least(getattr(self, key), 0, f"{path}.{key}")
        if self.out_weight == 0 and self.ce_weight == 0:
            raise ConfigError(f"{path}.out_weight: 0 is not allowed together with ce_weight: 0 (stage 4 has no loss)")
        if self.top_n is not None and self.top_n_ratio is not None:
            raise ConfigError(f"{path}.top_n_ratio: {self.top_n_ratio} is not allowed with top_n: {self.top_n}")
        if self.top_n is not None:
            _at_least(self.top_n, 1, f"{path}.top_n")
        if self.top_n_ratio is not None and not 0 < self.top_n_ratio <= 1:
            raise ConfigError(f"{path}.top_n_ratio: {self.top_n_ratio} is not allowed: must be in (0, 1]")

    def check_model(self, model: ModelSection) -> None:
        if self.top_n is not None and self.top_n > model.seq_len:
            raise ConfigError(f"distill.top_n: {self.top_n} is not allowed: must be <= model.seq_len={model.seq_len}")

    def keep(self, model: ModelSection) -> int | None:
        """N for the project's sequence length, or None when top-N is off."""
        if not self.use_top_n:
            return None
        if self.top_n_ratio is not None:
            return min(model.seq_len, max(1, math.ceil(self.top_n_ratio * model.seq_len)))
        return self.top_n if self.top_n is not None else model.top_n

    def fingerprint(self) -> dict[str, Any]:
        """What determines a distillation result (device and eval batch only change speed)."""
        d = asdict(self)
        for key in ("eval_batch_size", "device"):
            d.pop(key)
        return d


def _at_least(value: float, low: float, key: str) -> None:
    if value < low:
        raise ConfigError(f"{key}: {value} is not allowed: must be >= {low}")


def _positive_float(value: float, key: str) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{key}: {value} is not allowed: must be a finite number > 0")

