"""Glue to other libraries, each in its own module, each imported only when used.

================================  ==============================================================
``synthscene.integrations.torch``  PyTorch datasets in torchvision's detection conventions:
                                   :class:`~synthscene.integrations.torch.CocoFolder` (a dataset
                                   on disk) and :class:`~synthscene.integrations.torch.
                                   SyntheticStream` (frames rendered inside DataLoader workers).
                                   Needs the ``torch`` extra: ``pip install 'synthscene[torch]'``.
================================  ==============================================================

Nothing here is imported by ``import synthscene``.
"""
