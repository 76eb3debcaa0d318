from django import forms

from .models import SOURCES

DIGITS = [(str(d), str(d)) for d in range(10)]


class HistoryFilterForm(forms.Form):
    """The history's filters, read from the query string; all optional."""

    digit = forms.TypedChoiceField(choices=[("", "Any")] + DIGITS, coerce=int, empty_value=None, required=False)
    label = forms.TypedChoiceField(choices=[("", "Any")] + DIGITS, coerce=int, empty_value=None, required=False,
                                   label="Corrected label")
    source = forms.ChoiceField(choices=[("", "Any")] + [(s, s) for s in SOURCES], required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("'From' must not be after 'To'.")
        return data


class CorrectionForm(forms.Form):
    label = forms.TypedChoiceField(choices=[("", "No correction")] + DIGITS, coerce=int, empty_value=None,
                                   required=False, label="Correct label")
