"""The built-in sensor effects, one module each: its parameter model, its function (from
:mod:`synthscene.randomize.effects`, called through
:class:`~synthscene.randomize.effect_kinds.runner.EffectRunner`) and its row of
:data:`synthscene.randomize.builtins.BUILTINS`.
"""
