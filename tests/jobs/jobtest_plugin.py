"""A spec module that only the JobSpec.from_dict import path loads."""

from dataclasses import dataclass

from ssestudio.jobs import JobSpec, register_job


@register_job("test-plugin")
@dataclass(frozen=True)
class PluginSpec(JobSpec):
    """Returns its value."""

    value: int = 0

    def run(self, ctx):
        return {"value": self.value}
