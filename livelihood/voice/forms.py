"""
Residents' forms: a message on an item (FeedbackForm) and a satisfaction vote (RatingForm),
each with a honeypot field that bots fill in.
"""

import re

from django import forms

from livelihood.voice.models import SatisfactionVote

# Web addresses are refused: published text is shown as plain text, and a message with a
# link is nearly always advertising.
URL_PATTERN = re.compile(
    r"(https?:|ftp:|//|www\.|[a-z0-9-]+\.(com|cn|net|org|top|xyz|info|cc|vip|site|shop|me|io)\b)",
    re.IGNORECASE,
)
# An 11-digit mobile number or an 18-character ID number in the text to be published.
PERSONAL_PATTERN = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?![\dXx])")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e]")

HONEYPOT_FIELD = "website"


def plain_text(value: str) -> str:
    """Text as typed, less control and direction-override characters."""
    return CONTROL_CHARACTERS.sub("", value or "").strip()


class HoneypotMixin:
    """A field people never see (hidden by the style sheet) and bots fill in."""

    def add_honeypot(self):
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label="请勿填写此项", required=False, max_length=200
        )
        self.fields[HONEYPOT_FIELD].widget.attrs.update(autocomplete="off", tabindex="-1")

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD, "").strip())


class FeedbackForm(HoneypotMixin, forms.Form):
    message = forms.CharField(
        label="留言内容",
        min_length=5,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 500}),
        help_text="5至500字。请勿填写网址，也不要在留言中写电话、身份证号等个人信息。",
        error_messages={
            "required": "请填写留言内容。",
            "min_length": "留言内容至少需要 %(limit_value)d 个字。",
            "max_length": "留言内容最多 %(limit_value)d 个字（现有 %(show_value)d 个字）。",
        },
    )
    name = forms.CharField(
        label="称呼（选填）",
        required=False,
        max_length=20,
        help_text="例如“王女士”“明光路街道居民”。",
        error_messages={"max_length": "称呼最多 %(limit_value)d 个字。"},
    )
    show_name = forms.BooleanField(label="在网站上公开显示我的称呼", required=False)
    contact = forms.CharField(
        label="联系方式（选填）",
        required=False,
        max_length=50,
        help_text="电话或电子邮箱，仅区民生办核实情况时使用，不会公开，也不会提供给其他单位。",
        error_messages={"max_length": "联系方式最多 %(limit_value)d 个字。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_honeypot()

    def clean_message(self):
        text = plain_text(self.cleaned_data["message"])
        if URL_PATTERN.search(text):
            raise forms.ValidationError("留言内容中请不要包含网址或链接。")
        if PERSONAL_PATTERN.search(text):
            raise forms.ValidationError(
                "留言内容中似乎有手机号码或身份证号，会被公开；如需联系，请填写在“联系方式”中。"
            )
        if len(text) < 5:
            raise forms.ValidationError("留言内容至少需要 5 个字。")
        return text

    def clean_name(self):
        text = plain_text(self.cleaned_data["name"])
        if URL_PATTERN.search(text) or PERSONAL_PATTERN.search(text):
            raise forms.ValidationError("称呼中请不要包含网址、电话或证件号码。")
        return text

    def clean_contact(self):
        return plain_text(self.cleaned_data["contact"])


class RatingForm(HoneypotMixin, forms.Form):
    rating = forms.ChoiceField(
        label="您对这项民生实事的推进情况是否满意？",
        choices=SatisfactionVote.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择一项评价。", "invalid_choice": "请从选项中选择。"},
    )
    aware = forms.ChoiceField(
        label="您此前是否了解这项民生实事？（选填）",
        choices=[("yes", "了解"), ("no", "不了解")],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "请从选项中选择。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_honeypot()

    def clean_aware(self):
        return {"yes": True, "no": False}.get(self.cleaned_data["aware"])
