from allauth.account.views import SignupView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.shortcuts import redirect, render

from referrals import errors, services, throttle
from referrals.session import SESSION_CODE_KEY

from .adapter import default_campaign
from .forms import ProfileForm

USERNAME_JUST_TAKEN = (
    "Someone took this username a moment ago. If you just signed up in another tab, "
    "check your e-mail for the confirmation link; otherwise pick another username."
)


class InviteSignupView(SignupView):
    """allauth's signup, with code-guess throttling and a clear answer when a race is lost."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            if throttle.probes_exceeded(request):
                return render(request, "429.html", {"reason": "signups"}, status=429)
            code = request.POST.get("code", "") or request.session.get(SESSION_CODE_KEY, "")
            # A code that names an invite is always answered; only guessing waits.
            if throttle.is_throttled(request, code) and not _names_an_invite(code):
                return render(request, "429.html", status=429)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        initial = super().get_initial()
        code = self.request.GET.get("code") or self.request.session.get(SESSION_CODE_KEY, "")
        if code:
            initial["code"] = code
        return initial

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["remembered_code"] = self.request.session.get(SESSION_CODE_KEY, "")
        kwargs["campaign"] = default_campaign(self.request)  # the gate read it already
        return kwargs

    def form_invalid(self, form):
        if getattr(form, "code_was_unknown", False):
            throttle.record_unknown_code(self.request, form.data.get("code", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        try:
            response = super().form_valid(form)
            if form.probed_existing_address:
                # A registered address made nothing: counted, so probing waits.
                throttle.record_address_probe(self.request)
            return response
        except errors.InviteRefused as refused:
            # Lost a race for the last use after the form checked the code;
            # the transaction rolled back, so no account exists.
            form.add_error("code", refused.message)
            return self.form_invalid(form)
        except IntegrityError:
            # Two tabs (or a double click) posted the same signup: the other
            # one took the username between our form check and our insert.
            # The transaction rolled back, so this attempt left nothing.
            form.add_error("username", USERNAME_JUST_TAKEN)
            return super().form_invalid(form)


def _names_an_invite(code: str) -> bool:
    try:
        services.find_invite(code)
    except errors.UnknownCode:
        return False
    return True


signup = InviteSignupView.as_view()


@login_required
def profile_settings(request):
    """Display name, picture, blog, public profile and e-mail preferences."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form})
