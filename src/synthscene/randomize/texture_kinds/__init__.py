"""The built-in texture kinds, one module each: its parameter model, its function (drawing through
:mod:`synthscene.randomize.textures`) and its row of :data:`synthscene.randomize.builtins.BUILTINS`.
"""
