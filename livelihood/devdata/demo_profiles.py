"""
How each item of the 2024 plan goes in the demo (devdata/demo.py): the per-item profiles (on
schedule, behind from a month with a coded reason, over-completed, a last report missing), the
milestones of the items measured by milestones, and a sentence on each month's work. Pure
tables; devdata/demo_progress.py turns them into reports, figures and milestones.
"""

from dataclasses import dataclass

from livelihood.reporting.models import MonthlyReport

YEAR = 2024

Reason = MonthlyReport.DelayReason


# ------------------------------------------------------------------------------
# Profiles: how each item's year goes
# ------------------------------------------------------------------------------
ON_SCHEDULE, BEHIND, OVER, OVERDUE = "on_schedule", "behind", "over", "overdue"


@dataclass(frozen=True)
class Profile:
    kind: str = ON_SCHEDULE
    behind_from: tuple[int, int] | None = None  # (year, month) the item falls behind
    reason: str = ""
    note: str = ""
    measures: tuple[str, ...] = ()


PROFILES = {
    # Residents order the checks (你点我检) and order more than planned.
    "10-3": Profile(OVER),
    # Legal aid keeps to schedule, but December's report is still a draft: 逾期未报.
    "3-6": Profile(OVERDUE),
    "9-2": Profile(
        BEHIND,
        (YEAR, 6),
        Reason.PROCEDURES,
        "部分安置房项目竣工验收和不动产首次登记手续仍在办理，暂不具备交房条件。",
        (
            "已会同相关街道倒排交房计划，逐项目跟踪验收和登记进度。",
            "已提请区政府专题调度，协调不动产登记部门开辟绿色通道。",
        ),
    ),
    "9-4": Profile(
        BEHIND,
        (YEAR, 7),
        Reason.SEASONAL,
        "受梅雨季持续降雨和7—8月高温天气影响，户外健身场地硬化和器材安装施工进度放缓。",
        (
            "天气转好后增加施工班组，实行错峰施工。",
            "已倒排工期，每周调度各点位施工进度。",
        ),
    ),
    "9-1": Profile(
        BEHIND,
        (YEAR, 8),
        Reason.FUNDS,
        "部分充电桩点位由社会投资主体建设，建设资金未按计划到位，部分已建成点位待电力接入。",
        (
            "已督促投资主体落实建设资金，并协调供电部门加快电力接入。",
            "对资金仍未落实的点位，研究调整由区属国有企业承建。",
        ),
    ),
    "6-1": Profile(
        BEHIND,
        (YEAR, 9),
        Reason.OTHER,
        "部分餐饮商户需自筹资金改造油烟净化设施，改造意愿不强，需逐户上门做工作。",
        (
            "已对未整改商户下达限期整改通知，联合城管、市场监管部门开展联合检查。",
            "对改造确有困难的商户提供净化设施集中采购和技术指导。",
        ),
    ),
}
ON_TIME = Profile()

# Rates measured as coverage built up over the year rise from near zero; other rates are a
# level measured each month that moves a little towards the target.
RISING_RATES = {"5-1"}

# Count indicators broken down by street (their first count indicator).
STREET_BREAKDOWN = ("1-1", "3-2", "9-4")

# Items measured by milestones (no indicator, or a `standard` one): (month, day, title).
MILESTONES = {
    "1-2": (
        (5, 31, "发布2024年高校毕业生求职创业补贴申领公告"),
        (7, 31, "完成首批申领材料审核和公示"),
        (10, 31, "首批补贴按1500元/人标准发放到位"),
        (12, 20, "完成全年补贴发放和资金清算"),
    ),
    "1-3": (
        (5, 31, "制定家政服务人员培训计划"),
        (8, 31, "完成上半年家政服务技能培训班"),
        (11, 30, "举办家政服务供需对接会"),
        (12, 25, "完成年度培训和新增从业人员统计"),
    ),
    "2-1": (
        (6, 30, "按新标准发放城乡低保和特困人员生活保障金"),
        (9, 30, "完成低保对象年度动态复核"),
        (12, 20, "完成特困人员照料护理补贴年度发放"),
    ),
    "2-2": (
        (5, 31, "梳理办理事项清单和材料目录"),
        (7, 31, "线上办理专区上线试运行"),
        (9, 30, "街镇便民服务中心设立线下综合窗口"),
        (12, 15, "开展办理情况回访和效果评估"),
    ),
    "6-1": (
        (5, 31, "完成餐饮油烟、噪声、恶臭异味问题排查建档"),
        (7, 31, "完成重点点位油烟净化设施安装"),
        (9, 30, "开展夜间噪声专项执法检查"),
        (11, 30, "问题点位整改销号并回访群众"),
    ),
    "8-1": (
        (5, 31, "制定文化和旅游消费补助实施方案"),
        (6, 30, "发放第一批文旅消费券"),
        (9, 30, "发放第二批文旅消费券（国庆档）"),
        (12, 20, "完成补助资金核销和效果评估"),
    ),
    "9-5": (
        (6, 30, "完成辖区菜市场现状排查"),
        (9, 30, "完成重点菜市场提升改造"),
        (12, 20, "建立菜市场长效管理考核机制"),
    ),
    "10-2": (
        (5, 31, "开展反诈宣传进社区、进校园、进企业"),
        (8, 31, "开展暑期反诈专项行动"),
        (11, 30, "完成涉诈重点人员排查管控"),
        (12, 25, "完成年度反诈工作总结"),
    ),
}
GENERIC_MILESTONES = (
    (5, 31, "制定年度实施方案"),
    (8, 31, "完成阶段性任务"),
    (12, 20, "完成年度任务并总结"),
)

# A sentence on the month's work, one picked per report.
ACTIVITIES = {
    "1-1": (
        "开展“春风行动”“民营企业招聘月”等专项招聘活动。",
        "举办线上线下专场招聘会，帮扶重点群体就业。",
    ),
    "3-1": ("走访摸排困难职工家庭，及时落实救助。",),
    "3-2": ("为残疾儿童和成年残疾人提供康复训练、辅具适配等服务。",),
    "3-3": ("开设电商运营、手工编织等技能培训班。",),
    "3-4": ("依托街道阳光家园开展日间照料和托养服务。",),
    "3-5": ("入户评估后实施地面防滑、扶手安装等改造。",),
    "3-6": ("依托街镇公共法律服务工作站受理法律援助申请。",),
    "3-7": ("与民政部门开展数据比对，动态跟踪参保情况。",),
    "4-1": ("通过新建、回收治理等方式扩大公办学位供给。",),
    "4-2": ("按学期审核并发放资助资金。",),
    "4-3": ("老年学校开设书画、声乐、智能手机应用等课程。",),
    "4-4": ("依托社区开展家庭教育指导活动。",),
    "5-1": ("组织口腔医生进校园、进幼儿园开展涂氟和窝沟封闭。",),
    "5-2": ("辖区助产机构落实新生儿疾病筛查，对未筛查对象电话随访。",),
    "7-1": ("结合老旧小区改造和闲置地块利用挖潜增设泊位。",),
    "8-2": ("依托社区、商圈建设阅读空间。",),
    "9-1": ("在居住区、商圈和公共停车场布设充电设施。",),
    "9-3": ("推进退役军人服务站标准化建设。",),
    "10-1": ("组织商户开展放心消费承诺。",),
    "10-3": ("通过线上平台征集群众点单，按点单开展抽检。",),
}
