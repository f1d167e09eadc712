"""had-hls: Hamming Attention Distillation models to verified FPGA attention accelerators."""

__version__ = "0.1.0"
