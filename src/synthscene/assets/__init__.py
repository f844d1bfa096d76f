"""Assets: where meshes come from, how they look, their categories and collision hulls.

- :mod:`~synthscene.assets.library`: :class:`~synthscene.assets.library.AssetLibrary` (keys,
  categories, assets loaded on first use), :class:`~synthscene.assets.library.Asset` and
  :class:`~synthscene.assets.library.SceneLibraries` (the labelled objects, distractors and
  fixtures of a scenario; built for a run by :mod:`synthscene.run.scene_libraries`).
- :mod:`~synthscene.assets.sources`: asset sources (``primitive:``, ``pybullet_data:``, ``dir:``,
  ``file:``, ``assets:``, ``bop:``) indexed into keys and categories.
- :mod:`~synthscene.assets.bop_models`: BOP model folders (``models_info.json``,
  ``obj_NNNNNN.ply``, the texture a PLY header names).
- :mod:`~synthscene.assets.loading`: mesh files, URDFs and primitives read and normalised.
- :mod:`~synthscene.assets.primitives`: the built-in shapes.
- :mod:`~synthscene.assets.collision`: collision hulls, exact solids, mass properties.
- :mod:`~synthscene.assets.appearance`: the material an asset's files declare.
- :mod:`~synthscene.assets.urdf`, :mod:`~synthscene.assets.uv`: URDF parsing (and the one rule
  for the file names a URDF holds), box texture coordinates.
- :mod:`~synthscene.assets.mesh_files`, :mod:`~synthscene.assets.image_files`: bounded checks and
  reads of the files a scenario brings in.
"""
