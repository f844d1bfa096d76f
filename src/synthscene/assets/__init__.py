"""Assets: where meshes come from, how they look, their categories and collision hulls.

- :mod:`~synthscene.assets.library`: :class:`~synthscene.assets.library.AssetLibrary` (sources,
  mesh loading, categories).
- :mod:`~synthscene.assets.libraries`: the labelled objects, distractors and fixtures of a scenario.
- :mod:`~synthscene.assets.appearance`: the material an asset's files declare.
- :mod:`~synthscene.assets.urdf`, :mod:`~synthscene.assets.uv`: URDF parsing, box texture
  coordinates.
- :mod:`~synthscene.assets.mesh_files`, :mod:`~synthscene.assets.image_files`: bounded checks and
  reads of the files a scenario brings in.
- :mod:`~synthscene.assets.models_info`: BOP-style model descriptions for the dataset.
"""
