"""Spreadsheet import and export in admin: django-import-export's screens over our importers.

The screens (upload, preview, errors per row, confirm) and the export are django-import-export's
in the admin theme (``unfold.contrib.import_export``). What an import does is not theirs: a
``TabularResource`` hands the whole file to a ``TabularImporter`` through ``tabular_import``
(every row checked against one merchant's data, then all applied in one transaction or none)
and turns its report into the result those screens show. Staff pick the merchant in the form.
"""

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm
from import_export.results import InvalidRow, Result, RowResult
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.widgets import UnfoldAdminSelectWidget

from oms.models import Merchant
from oms.services.tabular import NON_COLUMN, Column, ImportReport, TabularImporter, tabular_import


def _merchant_field(**kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Merchant.objects.filter(active=True).order_by("code"),
        label=capfirst(_("merchant")),
        help_text=_("Every row must name this merchant's warehouses, SKUs and lists."),
        **kwargs,
    )


class MerchantImportForm(ImportForm):
    """The import form with the merchant the file is for (preselected when there is one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"] = _merchant_field()
        merchants = list(self.fields["merchant"].queryset[:2])
        if len(merchants) == 1:
            self.fields["merchant"].initial = merchants[0].pk
        self.order_fields(["merchant"])
        self.fields["merchant"].widget = UnfoldAdminSelectWidget(
            choices=self.fields["merchant"].choices
        )


class MerchantConfirmImportForm(ConfirmImportForm):
    merchant = _merchant_field(widget=forms.HiddenInput())


class TabularResource(resources.Resource):
    """A resource whose import runs ``importer_class`` all or nothing; export is its fields."""

    importer_class: ClassVar[type[TabularImporter]]

    def __init__(self, merchant: Merchant | None = None, **kwargs: Any) -> None:
        kwargs.pop("form", None)
        super().__init__(**kwargs)
        self.merchant = merchant

    @classmethod
    def get_display_name(cls) -> str:
        return str(cls.importer_class.verbose_name)

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Result:
        """Check and apply the whole file; the preview is the same run rolled back."""
        if self.merchant is None:
            raise ValueError("TabularResource needs the merchant the file is for.")
        importer = self.importer_class(  # type: ignore[call-arg]
            merchant=self.merchant, source=kwargs.get("file_name") or ""
        )
        report = tabular_import(
            importer=importer, headers=dataset.headers or [], data=dataset, dry_run=dry_run
        )
        return report_as_result(report)


def report_as_result(report: ImportReport) -> Result:
    """The importer's report as the result django-import-export's screens show.

    A refused row becomes an invalid row, its issues keyed by the column's label (in the
    reader's language); problems with the file as a whole are issues of row 1, its header.
    Other rows show before -> after of what changes.
    """
    result = Result()
    columns = list(report.columns)
    labels = {column.key: str(column.label) for column in columns}
    result.diff_headers = [labels[column.key] for column in columns]
    result.total_rows = len(report.rows)
    if report.problems:
        error = ValidationError({NON_FIELD_ERRORS: report.problems})
        result.invalid_rows.append(InvalidRow(1, error, tuple("" for _ in columns)))
        result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        return result
    for row in report.rows:
        if not row.ok:
            error = ValidationError(
                {
                    (NON_FIELD_ERRORS if key == NON_COLUMN else labels.get(key, key)): messages
                    for key, messages in row.issues.items()
                }
            )
            values = tuple(row.values.get(column.key, "") for column in columns)
            result.invalid_rows.append(InvalidRow(row.number, error, values))
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
            continue
    if result.invalid_rows:
        return result
    for row in report.rows:
        row_result = RowResult()
        changed = any(row.before.get(key, value) != value for key, value in row.after.items())
        if row.is_new:
            row_result.import_type = RowResult.IMPORT_TYPE_NEW
        elif changed:
            row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
        else:
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
        row_result.diff = [_diff_cell(row, column.key) for column in columns]
        result.totals[row_result.import_type] += 1
        result.append_row_result(row_result)
    return result


def _diff_cell(row: Any, key: str) -> str:
    after = row.after.get(key, row.values.get(key, ""))
    before = row.before.get(key)
    if before is None or before == after:
        return format_html("{}", after)
    return format_html(
        '<del class="text-red-600">{}</del> → <ins class="text-green-700">{}</ins>',
        before or "–",
        after or "–",
    )


def _column_text(column: Column) -> str:
    """ "expiry date (expiry_date, optional)": the column as the reader calls it, and its key."""
    label = str(column.label)
    if label == column.key:
        return label if column.required else gettext("%(label)s (optional)") % {"label": label}
    if column.required:
        return f"{label} ({column.key})"
    return gettext("%(label)s (%(key)s, optional)") % {"label": label, "key": column.key}


class SpreadsheetImportMixin(ImportExportMixin):
    """django-import-export's import and export, CSV and XLSX, for a merchant's data.

    Import needs the model's change permission, export its view permission (settings).
    Nothing goes to the admin log: the rows' history records each change with the file.
    """

    import_form_class = MerchantImportForm
    confirm_form_class = MerchantConfirmImportForm
    export_form_class = ExportForm
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    skip_admin_log = True

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict:
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"merchant": cleaned.get("merchant")}

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict:
        return {}

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict:
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["merchant"] = import_form.cleaned_data["merchant"].pk
        return initial

    def import_action(self, request: HttpRequest, **kwargs: Any) -> Any:
        """The import page, listing the importer's columns in the reader's language (with the
        header each column also goes by) instead of the resource's field names."""
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context is not None and "fields_list" in context:
            context["fields_list"] = [
                (
                    str(resource_class.importer_class.verbose_name),
                    [_column_text(column) for column in resource_class.importer_class.columns],
                )
                for resource_class in self.get_import_resource_classes(request)
            ]
        return response

    def process_result(self, result: Result, request: HttpRequest) -> Any:
        """After the confirm step: rows refused now (the stock moved since the preview) are
        shown as in the preview, nothing applied; otherwise back to the list."""
        if result.has_validation_errors() or result.has_errors():
            context = self.admin_site.each_context(request)
            context.update(
                {
                    "title": gettext("Import"),
                    "opts": self.model._meta,
                    "result": result,
                    "form": self.get_import_form_class(request)(
                        self.get_import_formats(), self.get_import_resource_classes(request)
                    ),
                    "import_error_display": self.import_error_display,
                }
            )
            return TemplateResponse(request, [self.import_template_name], context)
        return super().process_result(result, request)
