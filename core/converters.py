"""URL converters for the lifecycle verbs, so that their routes read like every other one
(``<int:pk>/<lifecycle:action>/``) and reverse only to a verb the views know."""

from django.urls import register_converter


class _Choice:
    choices: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.regex = "|".join(cls.choices)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        if value not in self.choices:
            raise ValueError(value)
        return value


class Lifecycle(_Choice):
    """停用 / 恢复 / 删除 of a section, task, target, milestone or allocation."""

    choices = ("retire", "restore", "delete")


class Archive(_Choice):
    """归档 / 取消归档 of a plan."""

    choices = ("archive", "unarchive")


register_converter(Lifecycle, "lifecycle")
register_converter(Archive, "archive")
