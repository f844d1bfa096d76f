"""Running frames: one frame (:mod:`~synthscene.run.frames`), the dataset run
(:mod:`~synthscene.run.pipeline`), a worker's share (:mod:`~synthscene.run.worker`), the output
folder (:mod:`~synthscene.run.run_folder`), and the executors that spread frames over processes
(:mod:`~synthscene.run.executors`).
"""
