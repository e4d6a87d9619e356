"""Serializers: what the API accepts and what it shows."""

import copy
from typing import Any, ClassVar

from django.conf import settings
from rest_framework import serializers

from shared_resource.models import Document, SummaryJob

from .fields import StrictCharField
from .validators import encodable_as_utf8


class FieldsBuiltOnce(serializers.ModelSerializer):
    """A model serializer whose fields are worked out from the model once per class.

    DRF's ModelSerializer inspects the model again for every instance (every 202 and every
    poll), though the answer only depends on the class's ``Meta``: here each instance gets a
    copy of the first answer, as DRF does with declared fields (a fifth of the cost).
    """

    _built_fields: ClassVar[dict[str, serializers.Field] | None] = None

    def get_fields(self) -> dict[str, serializers.Field]:
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)


class JobSerializer(FieldsBuiltOnce):
    """A summary job as its owner polls it: status, and the summary or the error."""

    url = serializers.HyperlinkedIdentityField(view_name="job-detail")
    document: "serializers.HyperlinkedRelatedField[Document]" = serializers.HyperlinkedRelatedField(
        view_name="document-detail", read_only=True
    )

    class Meta:
        model = SummaryJob
        fields = [
            "id",
            "url",
            "document",
            "status",
            "summary",
            "error",
            "provider",
            "model",
            "attempts",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = fields


class DocumentSerializer(FieldsBuiltOnce):
    """A document in a list: without its text, which may be long."""

    url = serializers.HyperlinkedIdentityField(view_name="document-detail")
    job = JobSerializer(source="summary_job", read_only=True)

    class Meta:
        model = Document
        fields = ["id", "url", "title", "created", "job"]
        read_only_fields = fields


class DocumentDetailSerializer(DocumentSerializer):
    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "text"]
        read_only_fields = fields


class DocumentCreateSerializer(serializers.Serializer):
    """A new document: a title and the text to summarise, both non-blank."""

    title = StrictCharField(max_length=200, validators=[encodable_as_utf8])

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # Built per instance so the limit follows the setting (DUET_MAX_TEXT_CHARS).
        fields["text"] = StrictCharField(
            max_length=settings.DUET_MAX_TEXT_CHARS,
            validators=[encodable_as_utf8],
            help_text=f"At most {settings.DUET_MAX_TEXT_CHARS} characters.",
        )
        return fields
