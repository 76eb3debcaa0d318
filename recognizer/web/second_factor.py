"""An optional second factor for the admin's login (django-otp): a user with a confirmed TOTP device (an
authenticator app, set up by a superuser under "TOTP devices") must give its current code after the
password; a user without one logs in with the password alone."""

from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm


class OptionalOTPAdminAuthenticationForm(OTPAdminAuthenticationForm):
    def clean(self):
        cleaned = super(OTPAdminAuthenticationForm, self).clean()  # the password (and staff) check alone
        user = self.get_user()
        devices = list(devices_for_user(user, confirmed=True)) if user is not None else []
        if devices:
            if not cleaned.get("otp_device") and len(devices) == 1:  # one device: no need to pick it
                cleaned["otp_device"] = devices[0].persistent_id
            self.clean_otp(user)
        return cleaned
