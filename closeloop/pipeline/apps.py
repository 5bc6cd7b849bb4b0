from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "closeloop.pipeline"
    label = "pipeline"
