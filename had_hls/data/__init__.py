"""Offline dataset loaders with fixed, documented splits (no downloads at run time)."""

from had_hls.data.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    ImageSplits,
    load_fashion_mnist,
)

__all__ = ["FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR", "ImageSplits", "load_fashion_mnist"]
