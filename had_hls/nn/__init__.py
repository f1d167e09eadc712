"""PyTorch side of had-hls: binarization modes, top-N, and the HammingAttention module."""

from had_hls.nn.attention import AttentionMaps, HammingAttention, hamming_distance
from had_hls.nn.binarize import STE_WINDOW, BinarizeMode, binarize, binary_code, scaled_tanh, sign_pm1, ste_sign
from had_hls.nn.topn import TopN, topn_keep_mask

__all__ = [
    "STE_WINDOW",
    "AttentionMaps",
    "BinarizeMode",
    "HammingAttention",
    "TopN",
    "binarize",
    "binary_code",
    "hamming_distance",
    "scaled_tanh",
    "sign_pm1",
    "ste_sign",
    "topn_keep_mask",
]
