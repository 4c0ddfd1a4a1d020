"""A stand-in for `torch` on the TorchServe peer's worker path (peers/torchserve/serve.py puts this
folder on PYTHONPATH); NOT PyTorch.

TorchServe 0.12's Python worker imports torch in its wire codec (ts/protocol/otf_message_handler.py)
only to recognise a handler's torch.Tensor replies (and torch.save them). The peer's handler
(peers/torchserve/handler.py) runs onnxruntime and replies with bytes, so that check never matches.
PyPI's torch wheel for Linux pulls about 3 GB of CUDA libraries and PyPI has no CPU-only one; the
request path is the same without it. Anything else from torch fails with one line naming why.
"""


class Tensor:
    """No object is an instance: the codec's isinstance(val, torch.Tensor) is always False."""


def save(*_args, **_kwargs):
    raise RuntimeError("torch.save: the TorchServe peer runs without PyTorch (peers/torchserve/torch-stand-in); its handler must reply with bytes or str")


def __getattr__(name):
    raise AttributeError(f"torch.{name}: the TorchServe peer runs without PyTorch (peers/torchserve/torch-stand-in); a handler needing torch cannot run here")
