from django import forms

from ..web.queries import DIGITS


class CorrectionForm(forms.Form):
    label = forms.TypedChoiceField(choices=[("", "No correction")] + DIGITS, coerce=int, empty_value=None,
                                   required=False, label="Correct label")
