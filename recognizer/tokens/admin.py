"""API tokens in the admin: created with a name and a lifetime, the key shown once; deleting one revokes
it. Staff see and make their own tokens; superusers anyone's. Every creation and revocation is audited."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils import timezone

from ..audit.services import audit_record
from .models import ApiToken
from .services import token_create


class ApiTokenCreateForm(forms.ModelForm):
    days = forms.IntegerField(min_value=1, max_value=3650, initial=lambda: settings.NUMBERFIGURE_API_TOKEN_DAYS,
                              help_text="Days until the token stops working.")

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "token_key", "created", "expiry", "expired")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    ordering = ("-created",)

    @admin.display(boolean=True)
    def expired(self, token: ApiToken) -> bool:
        return token.expiry is not None and token.expiry < timezone.now()

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["user", "name", "days"] if obj is None else ["name", "user", "token_key", "created", "expiry"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "token_key", "created", "expiry"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:  # no token to act as someone else
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:  # only the name can change
            obj.save(update_fields=["name"])
            return
        token, key = token_create(user=obj.user, name=obj.name, days=form.cleaned_data["days"])
        obj.pk, obj.token_key, obj.created, obj.expiry = token.pk, token.token_key, token.created, token.expiry
        obj._state.adding = False
        audit_record(request=request, action="token.create", target=f"{token.name} ({token.user})",
                     change={"expiry": token.expiry.isoformat()})
        self.message_user(request, f"The key of “{token.name}”: {key} — copy it now: only its hash is stored, "
                          "it will not be shown again.", messages.WARNING)

    def delete_model(self, request, obj):
        self.delete_queryset(request, ApiToken.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            audit_record(request=request, action="token.revoke", target=f"{token.name} ({token.user})")
            token.delete()
