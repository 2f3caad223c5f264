"""
What the downloads, the API and its OpenAPI description share: the terms and source every
file states, the API's page sizes and scopes, the Atom feed's length (the data page states
it), and the one JSON encoding. Kept apart so that
none of the three imports another for a constant.
"""

import datetime
import json
from decimal import Decimal

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 200
SCOPES = ("district", "street")
# The Atom feed (livelihood/public/feeds.py) holds the latest approvals, at most this many.
FEED_SIZE = 50

SOURCE = "瑶海区民生实事进度公开平台（瑶海区民生工作领导小组办公室）"
TERMS = (
    "本数据由瑶海区民生工作领导小组办公室依据各牵头单位月度填报、经审核后发布，只含已审核公开的数据。"
    "任何单位和个人可免费获取、复制、传播和开发利用，包括用于商业用途，无需申请；"
    "使用时请注明来源“瑶海区民生实事进度公开平台”和数据截至月份，不得歪曲、篡改数据原意。"
    "“演示数据”为“是”的行由系统生成，并非实际填报，不得引用。"
)


def json_default(value):
    """JSON numbers for Decimals (an integer when whole), ISO 8601 for dates."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} 无法写成 JSON")


def to_json(data) -> str:
    return json.dumps(data, default=json_default, ensure_ascii=False, separators=(",", ":"))
