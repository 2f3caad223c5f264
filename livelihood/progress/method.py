"""
The published method: how progress, 序时进度, status and 逾期未报 are computed, in the words
the about page, the data page and the API description all show (issue 14: the published rule
and the code must not differ). Each rule states what `progress.py` and
`querysets.ItemQuerySet.with_progress()` do, for every kind of indicator; change them together.

`rules()` reads the two settings the rules depend on, the tolerance and the due day, which the
plans dataset also publishes (tolerance_points, report_due_day).
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Rule:
    title: str
    text: str


def rules() -> list[Rule]:
    tolerance = settings.PROGRESS_TOLERANCE_POINTS
    due_day = settings.REPORT_DUE_DAY
    return [
        Rule(
            "数据截至",
            "一个年度计划的“数据截至”月份，是该计划已有审核公开报告的最近月份。"
            "全部事项都按这个月份计算：各指标取该月及以前最近一份已审核报告的全区合计"
            "（更正过的以更正后的数值为准），工作节点只计已审核报告确认完成的。",
        ),
        Rule(
            "数量类、比率类指标（不低于、等于）",
            "指标进度 = 最新审核数值 ÷ 目标，两者都折合为基本单位（如 1.15万人 = 11500人）。"
            "超额部分如实计算，例如 120%；尚无审核数值的计为 0；目标为 0 的计为 100%；"
            "没有目标值的指标不计进度。",
        ),
        Rule(
            "“约”类指标",
            "与上一条相同，但达到目标即为完成，最多按 100% 计。",
        ),
        Rule(
            "“不超过”类指标",
            "最新审核数值不超过限值时为 100%，超过时为 0。",
        ),
        Rule(
            "标准类、定性类指标",
            "指标进度 = 已完成的工作节点数 ÷ 计划节点数；没有计划节点时不计进度。"
            "来源文件未列指标的事项，按工作节点计算。",
        ),
        Rule(
            "事项进度",
            "各指标进度按指标权重加权平均（只计可计量的指标）。事项页面和“完成进度”字段"
            "显示超额部分；判断状态和汇总时每个指标最多按 100% 计。",
        ),
        Rule(
            "领域、牵头单位和全区进度",
            "各事项进度（每项最多按 100% 计）按事项权重加权平均，即 Σ(进度×权重) ÷ Σ权重，"
            "只计可计量的事项；序时进度按同样权重平均。",
        ),
        Rule(
            "序时进度：设有月度计划的数量类、比率类指标",
            "数据截至月份及以前最近一个月的计划累计值 ÷ 目标，最多按 100% 计；"
            "早于第一个计划月份时为 0。",
        ),
        Rule(
            "序时进度：未设月度计划的数量类、比率类指标",
            "从印发当月到12月平均推进，按月底计：已过月数（含数据截至月份）÷ 印发当月至12月的"
            "月数。4月印发的计划，4月底为 1/9，6月底为 3/9，12月底为全部。",
        ),
        Rule(
            "序时进度：标准类、定性类指标",
            "按工作节点的计划完成日期：计划在数据截至月份月底前完成的节点数 ÷ 计划节点数。",
        ),
        Rule(
            "事项序时进度",
            "各可计量指标的序时进度按指标权重加权平均。",
        ),
        Rule(
            "状态",
            "数据截至月份及以前尚无审核公开报告的为“未启动”；事项进度（按 100% 封顶计）"
            "达到 100% 的，超过 100% 为“超额完成”，否则为“已完成”；低于序时进度超过 "
            f"{tolerance} 个百分点的为“滞后”；其余（包括无法计量的）为“正常推进”。"
            "状态按数据截至月份判断，不随日期推移而变化；比较用未经四舍五入的数值，"
            "页面和下载文件中的百分数保留一位小数。",
        ),
        Rule(
            "逾期未报",
            f"每月报告应在次月{due_day}日前（含当日）报送。从印发当月到12月，"
            "有月份的报送期限已过而该月报告仍未报送（已报送待审核或已审核公开的都算已报送），"
            "事项另标“逾期未报”。它按今天的日期判断，与状态分开。按时报送率 = 在期限内报送的月数"
            " ÷ 期限已过的月数。",
        ),
    ]


def text() -> str:
    """The rules as one plain text, for the API description."""
    return "\n".join(f"{rule.title}：{rule.text}" for rule in rules())
