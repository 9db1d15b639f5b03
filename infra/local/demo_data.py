"""Demo data for the local Daojia stack: stores, catalogue, stock, members, staff.

Everything here is plain Python data built on each call, fully deterministic
(the only randomness is ``random.Random(DEMO_SEED)`` created inside the
functions), and free of I/O and AWS so that tests and the local stack can use
it directly.

The four stores are in Shanghai, the catalogue holds about 250 SKUs of a
Chinese supermarket across nine first-level categories, and every product has
a price and a stock level in every store.

SECURITY NOTE: the staff passwords in :func:`staff` are **demo-only
credentials** for the local stack, which prints them on start-up so that a
developer can log in to the admin site. They are intentionally plain text in
this file and must never be used for (or seeded into) any deployed
environment.
"""

from __future__ import annotations

import csv
import io
import math
import random
from typing import Any

__all__ = [
    "CATEGORIES",
    "DEMO_SEED",
    "ERP_CSV_HEADER",
    "STOCK_CSV_HEADER",
    "ZONES",
    "coupon_templates",
    "ean13_check_digit",
    "erp_sample_csv",
    "members",
    "paid_cards",
    "paid_plans",
    "products",
    "promotions",
    "staff",
    "stock_sample_csv",
    "store_items",
    "stores",
]

DEMO_SEED = 20261124
"""Seed of every random choice in this module."""

ZONES: tuple[str, ...] = ("A 生鲜区", "B 冷藏区", "C 冷冻区", "D 常温区", "E 日化区")
"""Picking zones of a store, in walking order."""

CATEGORIES: dict[str, tuple[str, ...]] = {
    "蔬菜": ("叶菜", "根茎", "菌菇"),
    "水果": ("柑橘", "苹果梨", "热带水果", "浆果"),
    "肉禽蛋": ("猪肉", "鸡鸭", "蛋类"),
    "水产": ("鱼", "虾蟹"),
    "乳品烘焙": ("牛奶", "酸奶", "面包"),
    "粮油调味": ("米面", "食用油", "调味品"),
    "休闲零食": ("饼干", "坚果", "糖果巧克力"),
    "酒水饮料": ("饮用水", "果汁茶饮", "啤酒"),
    "日用清洁": ("纸品", "洗衣清洁", "个人护理"),
}
"""First-level category -> its second-level categories, in catalogue order."""

_FRESH_CATEGORY1 = frozenset({"蔬菜", "水果", "肉禽蛋", "水产"})
_FRESH_CATEGORY2 = frozenset({"牛奶", "酸奶", "面包"})

# (category1, category2) -> picking zone; anything not listed is "D 常温区".
_ZONE_OF: dict[tuple[str, str], str] = {
    **{("蔬菜", c2): "A 生鲜区" for c2 in CATEGORIES["蔬菜"]},
    **{("水果", c2): "A 生鲜区" for c2 in CATEGORIES["水果"]},
    ("肉禽蛋", "猪肉"): "B 冷藏区",
    ("肉禽蛋", "鸡鸭"): "B 冷藏区",
    ("肉禽蛋", "蛋类"): "A 生鲜区",
    ("水产", "鱼"): "C 冷冻区",
    ("水产", "虾蟹"): "C 冷冻区",
    ("乳品烘焙", "牛奶"): "B 冷藏区",
    ("乳品烘焙", "酸奶"): "B 冷藏区",
    ("乳品烘焙", "面包"): "A 生鲜区",
    **{("日用清洁", c2): "E 日化区" for c2 in CATEGORIES["日用清洁"]},
}

# Catalogue: (category1, category2) -> [(name, unit, chain list price in yuan)].
# The list price is the price of the reference store sh-jingan; the other
# stores deviate from it by at most 10 %.
_CATALOGUE: dict[tuple[str, str], list[tuple[str, str, float]]] = {
    ("蔬菜", "叶菜"): [
        ("本地 上海青 约500g", "份", 3.98),
        ("本地 菠菜 约400g", "份", 4.98),
        ("球生菜 约500g", "个", 3.50),
        ("娃娃菜 3颗装 约600g", "袋", 5.90),
        ("山东 大白菜 约2kg", "个", 6.80),
        ("崇明 鸡毛菜 约300g", "份", 3.90),
        ("西芹 约500g", "份", 4.50),
        ("空心菜 约400g", "份", 4.20),
        ("韭菜 约300g", "份", 3.60),
        ("香菜 约100g", "份", 2.50),
    ],
    ("蔬菜", "根茎"): [
        ("黄心土豆 约1kg", "袋", 5.90),
        ("胡萝卜 约500g", "袋", 3.50),
        ("白萝卜 约1kg", "个", 3.90),
        ("山东 大葱 约500g", "份", 4.80),
        ("紫皮洋葱 约750g", "袋", 4.50),
        ("河南 铁棍山药 约500g", "份", 12.80),
        ("湖北 莲藕 约600g", "份", 8.90),
        ("生姜 约200g", "份", 4.20),
        ("紫皮大蒜 约250g", "份", 5.50),
        ("烟薯25号 红薯 约1kg", "袋", 9.90),
    ],
    ("蔬菜", "菌菇"): [
        ("鲜香菇 约250g", "盒", 6.90),
        ("金针菇 约200g", "袋", 2.90),
        ("杏鲍菇 约400g", "袋", 6.50),
        ("白玉菇 约150g", "盒", 4.90),
        ("蟹味菇 约150g", "盒", 4.90),
        ("平菇 约300g", "份", 4.50),
        ("双孢菇 约250g", "盒", 6.80),
        ("鲜黑木耳 约200g", "盒", 5.90),
        ("鹿茸菇 约150g", "盒", 8.90),
    ],
    ("水果", "柑橘"): [
        ("赣南 脐橙 约2.5kg", "袋", 29.90),
        ("四川 耙耙柑 约1.5kg", "袋", 25.90),
        ("广西 沃柑 约2kg", "袋", 19.90),
        ("爱媛38号 果冻橙 约1.5kg", "盒", 32.80),
        ("福建 琯溪蜜柚 约1.2kg", "个", 12.90),
        ("广西 砂糖橘 约1kg", "袋", 12.80),
        ("不知火 丑橘 约1.5kg", "袋", 26.90),
        ("四川 安岳柠檬 4个装", "袋", 9.90),
    ],
    ("水果", "苹果梨"): [
        ("山东 烟台红富士苹果 约2kg", "袋", 25.90),
        ("新疆 阿克苏冰糖心苹果 约2.5kg", "箱", 39.90),
        ("新西兰 爵士苹果 4个装", "盒", 29.90),
        ("陕西 洛川苹果 约1.5kg", "袋", 19.90),
        ("新疆 库尔勒香梨 约1kg", "盒", 16.90),
        ("安徽 砀山酥梨 约2kg", "袋", 15.90),
        ("河北 皇冠梨 约1.5kg", "袋", 13.90),
        ("山东 秋月梨 2个装 约1kg", "盒", 19.80),
    ],
    ("水果", "热带水果"): [
        ("海南 香蕉 约500g", "份", 4.50),
        ("都乐 菲律宾香蕉 约1kg", "份", 9.90),
        ("泰国 金枕榴莲 约2.5kg", "个", 149.00),
        ("海南 贵妃芒 约1kg", "盒", 19.90),
        ("台农芒果 约1kg", "盒", 15.90),
        ("海南 金钻凤梨 1个装", "个", 15.90),
        ("越南 红心火龙果 2个装", "盒", 16.90),
        ("泰国 椰青 1个装", "个", 9.90),
        ("广西 百香果 约500g", "袋", 9.90),
        ("海南 红心木瓜 约1kg", "个", 12.90),
    ],
    ("水果", "浆果"): [
        ("丹东 红颜草莓 约500g", "盒", 39.90),
        ("智利 车厘子 J级 约500g", "盒", 59.90),
        ("云南 蓝莓 125g", "盒", 19.90),
        ("阳光玫瑰 青提 约500g", "盒", 29.90),
        ("夏黑 无籽葡萄 约500g", "盒", 14.90),
        ("秘鲁 红提 约1kg", "盒", 22.90),
        ("云南 树莓 125g", "盒", 24.90),
        ("千禧 小番茄 约500g", "盒", 12.90),
        ("佳沛 阳光金果 奇异果 6个装", "盒", 39.90),
    ],
    ("肉禽蛋", "猪肉"): [
        ("黑猪 五花肉 约500g", "盒", 32.90),
        ("冷鲜 猪里脊肉 约400g", "盒", 19.90),
        ("冷鲜 猪肋排 约500g", "盒", 36.90),
        ("猪前腿肉糜 约400g", "盒", 16.90),
        ("冷鲜 猪大排 约500g", "盒", 24.90),
        ("猪蹄 切块 约800g", "盒", 29.90),
        ("双汇 冷鲜猪小排 约500g", "盒", 39.90),
        ("猪梅花肉 约400g", "盒", 26.90),
        ("猪后腿肉 约500g", "盒", 18.90),
    ],
    ("肉禽蛋", "鸡鸭"): [
        ("圣农 鸡胸肉 1kg", "袋", 19.90),
        ("正大 鸡翅中 500g", "盒", 32.90),
        ("冷鲜 三黄鸡 约1.2kg", "份", 35.90),
        ("鸡全腿 约500g", "盒", 15.90),
        ("鸡爪 约500g", "盒", 19.90),
        ("樱桃谷 鸭腿 约600g", "盒", 17.90),
        ("鸭胸肉 约500g", "盒", 18.90),
        ("农家 老母鸡 约1.5kg", "份", 59.90),
        ("上海 本地草鸡 约1.3kg", "份", 69.00),
    ],
    ("肉禽蛋", "蛋类"): [
        ("德青源 鲜鸡蛋 10枚", "盒", 15.90),
        ("黄天鹅 可生食鸡蛋 30枚", "盒", 69.90),
        ("圣迪乐村 鲜鸡蛋 20枚", "盒", 29.90),
        ("农家 土鸡蛋 15枚", "盒", 24.90),
        ("高邮 熟咸鸭蛋 6枚", "盒", 14.90),
        ("鹌鹑蛋 约300g", "盒", 9.90),
        ("散装 鲜鸡蛋", "斤", 6.90),
        ("松花皮蛋 6枚", "盒", 9.90),
    ],
    ("水产", "鱼"): [
        ("冰鲜 大黄鱼 约500g", "份", 35.90),
        ("挪威 三文鱼刺身 200g", "盒", 59.90),
        ("鲜活 鲈鱼 约600g", "份", 29.90),
        ("冷冻 巴沙鱼柳 500g", "袋", 19.90),
        ("舟山 带鱼段 500g", "袋", 39.90),
        ("鲜活 鲫鱼 约500g", "份", 15.90),
        ("冰鲜 银鲳鱼 约400g", "份", 39.90),
        ("冷冻 银鳕鱼块 300g", "袋", 49.90),
        ("草鱼段 约800g", "份", 19.90),
        ("冷冻 小黄鱼 500g", "袋", 25.90),
    ],
    ("水产", "虾蟹"): [
        ("厄瓜多尔 白虾 40/50规格 1.5kg", "盒", 89.00),
        ("鲜活 基围虾 约500g", "份", 59.90),
        ("冷冻 青虾仁 250g", "袋", 29.90),
        ("阿根廷 红虾 L1 2kg", "盒", 139.00),
        ("鲜活 小龙虾 约1kg", "份", 59.90),
        ("冷冻 梭子蟹 约500g", "袋", 49.90),
        ("阳澄湖 大闸蟹 公蟹4两 2只装", "盒", 99.00),
        ("冷冻 黑虎虾 400g", "盒", 59.90),
        ("加拿大 北极甜虾 熟冻 500g", "袋", 45.90),
    ],
    ("乳品烘焙", "牛奶"): [
        ("光明 优倍鲜牛奶 950ml", "瓶", 17.90),
        ("光明 新鲜牧场 鲜牛奶 950ml", "瓶", 14.90),
        ("蒙牛 每日鲜语 鲜牛奶 720ml", "瓶", 18.90),
        ("伊利 金典 鲜牛奶 950ml", "瓶", 19.90),
        ("君乐宝 悦鲜活 鲜牛奶 950ml", "瓶", 21.90),
        ("光明 优倍 低脂鲜牛奶 950ml", "瓶", 18.90),
        ("新希望 24小时 鲜牛奶 950ml", "瓶", 16.90),
        ("卡士 鲜牛奶 950ml", "瓶", 24.90),
        ("光明 致优 全鲜乳 780ml", "瓶", 23.90),
        ("蒙牛 现代牧场 鲜牛奶 950ml", "瓶", 15.90),
    ],
    ("乳品烘焙", "酸奶"): [
        ("光明 莫斯利安 原味酸奶 200g*6", "提", 29.90),
        ("简爱 原味裸酸奶 135g*6", "提", 35.90),
        ("卡士 餐后一小时 原味 100g*3", "提", 15.90),
        ("蒙牛 纯甄 风味酸奶 200g*10", "箱", 49.90),
        ("光明 如实 发酵乳 135g*6", "提", 25.90),
        ("伊利 安慕希 希腊风味酸奶 205g*10", "箱", 59.90),
        ("乐纯 三倍蛋白 希腊酸奶 135g*3", "盒", 29.90),
        ("味全 优酪乳 草莓味 435ml", "瓶", 12.90),
        ("养乐多 活菌型乳酸菌乳饮品 100ml*5", "提", 11.50),
    ],
    ("乳品烘焙", "面包"): [
        ("桃李 醇熟切片面包 400g", "袋", 9.90),
        ("宾堡 全麦吐司 400g", "袋", 12.90),
        ("曼可顿 全麦面包 400g", "袋", 11.90),
        ("巴黎贝甜 牛角面包 4个装", "袋", 19.90),
        ("现烤 法棍 1根", "个", 8.50),
        ("桃李 豆沙面包 75g*4", "袋", 10.90),
        ("现烤 半熟芝士 6枚", "盒", 39.90),
        ("现烤 全麦欧包 约300g", "个", 15.90),
        ("宾堡 汉堡胚 6个装", "袋", 12.90),
    ],
    ("粮油调味", "米面"): [
        ("福临门 东北大米 5kg", "袋", 39.90),
        ("金龙鱼 泰国香米 5kg", "袋", 59.90),
        ("十月稻田 五常大米 5kg", "袋", 79.90),
        ("崇明 生态大米 5kg", "袋", 45.90),
        ("金龙鱼 东北大米 10kg", "袋", 69.90),
        ("香满园 特精小麦粉 2.5kg", "袋", 17.90),
        ("中裕 饺子专用粉 1kg", "袋", 8.90),
        ("陈克明 鸡蛋挂面 1kg", "包", 11.90),
        ("金沙河 龙须挂面 900g", "包", 7.90),
        ("太粮 油粘米 5kg", "袋", 42.90),
    ],
    ("粮油调味", "食用油"): [
        ("金龙鱼 黄金比例调和油 5L", "瓶", 69.90),
        ("鲁花 5S压榨一级花生油 5L", "瓶", 159.00),
        ("福临门 大豆油 5L", "瓶", 59.90),
        ("多力 葵花籽油 5L", "瓶", 89.90),
        ("金龙鱼 稻米油 4L", "瓶", 65.90),
        ("欧丽薇兰 特级初榨橄榄油 750ml", "瓶", 89.00),
        ("胡姬花 古法花生油 900ml", "瓶", 36.90),
        ("李锦记 纯香芝麻油 207ml", "瓶", 19.90),
    ],
    ("粮油调味", "调味品"): [
        ("海天 味极鲜 特级酱油 1.9L", "瓶", 22.90),
        ("李锦记 薄盐生抽 500ml", "瓶", 9.90),
        ("老干妈 风味豆豉油制辣椒 280g", "瓶", 10.50),
        ("太太乐 鸡精 200g", "袋", 9.90),
        ("恒顺 镇江香醋 500ml", "瓶", 6.90),
        ("海天 上等蚝油 715g", "瓶", 10.90),
        ("中盐 精制加碘盐 400g", "包", 2.50),
        ("太古 优级白砂糖 454g", "包", 6.90),
        ("王守义 十三香 45g", "盒", 4.50),
        ("李锦记 蒸鱼豉油 410ml", "瓶", 12.90),
    ],
    ("休闲零食", "饼干"): [
        ("奥利奥 原味夹心饼干 349g", "包", 14.90),
        ("闲趣 清甜原味饼干 185g", "包", 6.90),
        ("好吃点 香脆腰果饼 108g", "包", 4.90),
        ("康师傅 3+2 苏打夹心饼干 125g", "包", 5.50),
        ("太平 梳打饼干 海苔味 100g", "包", 4.50),
        ("趣多多 香脆曲奇 85g", "包", 5.90),
        ("皇冠 丹麦曲奇 454g", "盒", 79.00),
        ("旺旺 雪饼 520g", "包", 16.90),
        ("好丽友 巧克力派 12枚", "盒", 21.90),
    ],
    ("休闲零食", "坚果"): [
        ("三只松鼠 每日坚果 750g", "盒", 89.90),
        ("洽洽 原味瓜子 308g", "袋", 10.90),
        ("良品铺子 奶油味夏威夷果 120g", "袋", 19.90),
        ("百草味 手剥巴旦木 200g", "袋", 22.90),
        ("来伊份 原色开心果 180g", "袋", 29.90),
        ("沃隆 每日坚果 25g*30", "盒", 99.00),
        ("洽洽 小黄袋每日坚果 26g*7", "盒", 29.90),
        ("城隍庙 奶油五香豆 200g", "袋", 9.90),
        ("甘源 蟹黄味瓜子仁 285g", "袋", 15.90),
    ],
    ("休闲零食", "糖果巧克力"): [
        ("德芙 丝滑牛奶巧克力 252g", "盒", 39.90),
        ("费列罗 榛果威化巧克力 16粒", "盒", 69.00),
        ("冠生园 大白兔奶糖 227g", "袋", 16.90),
        ("士力架 花生夹心巧克力 240g", "袋", 23.90),
        ("阿尔卑斯 牛奶硬糖 150g", "袋", 9.90),
        ("瑞士莲 软心牛奶巧克力 200g", "盒", 79.00),
        ("徐福记 什锦酥心糖 500g", "袋", 29.90),
        ("绿箭 原味薄荷口香糖 40粒", "瓶", 13.50),
        ("好时 牛奶巧克力 146g", "袋", 21.90),
    ],
    ("酒水饮料", "饮用水"): [
        ("农夫山泉 饮用天然水 550ml*24", "箱", 36.00),
        ("农夫山泉 饮用天然水 5L*4", "箱", 35.90),
        ("怡宝 纯净水 555ml*24", "箱", 29.90),
        ("百岁山 天然矿泉水 570ml*24", "箱", 49.90),
        ("娃哈哈 纯净水 596ml*24", "箱", 26.90),
        ("依云 天然矿泉水 500ml*24", "箱", 129.00),
        ("康师傅 包装饮用水 550ml*24", "箱", 22.90),
        ("景田 纯净水 560ml*24", "箱", 28.90),
        ("农夫山泉 饮用天然水 550ml", "瓶", 2.00),
    ],
    ("酒水饮料", "果汁茶饮"): [
        ("农夫山泉 NFC橙汁 300ml", "瓶", 7.90),
        ("汇源 100%橙汁 1L", "盒", 12.90),
        ("康师傅 冰红茶 500ml*15", "箱", 42.00),
        ("农夫山泉 东方树叶 茉莉花茶 500ml", "瓶", 5.50),
        ("三得利 无糖乌龙茶 500ml*15", "箱", 59.00),
        ("元气森林 白桃味苏打气泡水 480ml*15", "箱", 59.00),
        ("统一 阿萨姆奶茶 500ml", "瓶", 4.50),
        ("维他 柠檬茶 250ml*24", "箱", 49.90),
        ("味全 每日C 橙汁 900ml", "瓶", 12.90),
        ("统一 小茗同学 冷泡茶 480ml", "瓶", 5.00),
    ],
    ("酒水饮料", "啤酒"): [
        ("青岛啤酒 经典 500ml*12", "箱", 49.90),
        ("百威 啤酒 500ml*12", "箱", 65.00),
        ("雪花 勇闯天涯 500ml*12", "箱", 45.00),
        ("哈尔滨 冰纯 330ml*24", "箱", 49.00),
        ("喜力 啤酒 500ml*12", "箱", 89.00),
        ("青岛 纯生啤酒 500ml*12", "箱", 69.00),
        ("凯旋1664 白啤酒 330ml*12", "箱", 88.00),
        ("福佳 白啤酒 330ml*6", "提", 59.00),
        ("燕京 U8 啤酒 500ml*12", "箱", 48.00),
    ],
    ("日用清洁", "纸品"): [
        ("维达 超韧抽纸 3层100抽*24包", "箱", 59.90),
        ("清风 原木纯品卷纸 4层140g*27卷", "提", 49.90),
        ("心相印 茶语抽纸 3层120抽*6包", "提", 19.90),
        ("洁柔 古龙水手帕纸 4层 18包", "提", 9.90),
        ("得宝 手帕纸 4层 18包", "提", 19.90),
        ("维达 湿厕纸 40片*3包", "提", 25.90),
        ("清风 厨房纸巾 75节*2卷", "提", 12.90),
        ("洁柔 百花卷纸 3层180g*10卷", "提", 25.90),
    ],
    ("日用清洁", "洗衣清洁"): [
        ("蓝月亮 深层洁净洗衣液 3kg", "瓶", 59.90),
        ("奥妙 除菌除螨洗衣液 3kg", "瓶", 49.90),
        ("立白 清新柠檬洗洁精 1.29kg", "瓶", 12.90),
        ("汰渍 洁净洗衣粉 1.6kg", "袋", 19.90),
        ("威猛先生 厨房重油污净 500g", "瓶", 19.90),
        ("滴露 衣物除菌液 1.5L", "瓶", 69.00),
        ("超能 植翠低泡洗衣液 2kg", "瓶", 29.90),
        ("蓝月亮 洁厕液 600g*2", "提", 19.90),
        ("碧浪 洗衣凝珠 52颗", "盒", 59.90),
    ],
    ("日用清洁", "个人护理"): [
        ("舒肤佳 纯白清香香皂 115g*3", "提", 13.90),
        ("海飞丝 丝质柔滑去屑洗发露 750ml", "瓶", 69.90),
        ("高露洁 全面防蛀牙膏 250g", "个", 14.90),
        ("六神 清凉花露水 195ml", "瓶", 13.90),
        ("云南白药 牙膏 留兰香型 180g", "个", 29.90),
        ("力士 幽莲魅肤沐浴露 1L", "瓶", 39.90),
        ("护舒宝 日用卫生巾 240mm 20片", "包", 24.90),
        ("黑人 超白牙膏 190g", "个", 19.90),
        ("大宝 SOD蜜 200ml", "瓶", 18.90),
    ],
}

# Delisted or out of season: present in the catalogue with active False.
_INACTIVE_NAMES = frozenset(
    {
        "泰国 金枕榴莲 约2.5kg",
        "阳澄湖 大闸蟹 公蟹4两 2只装",
        "皇冠 丹麦曲奇 454g",
    }
)

# Manufacturer part of the barcode (69 + 5 digits) per first-level category.
_BARCODE_COMPANY: dict[str, str] = {
    "蔬菜": "21004",
    "水果": "21017",
    "肉禽蛋": "23052",
    "水产": "25310",
    "乳品烘焙": "01116",
    "粮油调味": "02018",
    "休闲零食": "04275",
    "酒水饮料": "04826",
    "日用清洁": "03388",
}


def ean13_check_digit(first12: str) -> str:
    """Return the EAN-13 check digit for a string of 12 decimal digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"EAN-13 body must be 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _weekly(open_: str, close: str, late: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Seven opening-hours entries, Monday (0) first; ``late`` overrides closing times."""
    late = late or {}
    return [{"day": day, "open": open_, "close": late.get(day, close)} for day in range(7)]


# The local stack gives each demo store one relay printing both copies (and slips) on one
# virtual ESC/POS network printer named "front" (infra/local/stack.py, relay_config), on a
# loopback port chosen at start-up: the stores list that printer.
DEMO_PRINTERS: list[dict[str, Any]] = [
    {
        "name": "front",
        "paper_mm": 80,
        "copies": ["picking", "delivery"],
        "connection": "virtual printer (local stack, 127.0.0.1)",
    }
]


def stores() -> list[dict[str, Any]]:
    """Return the four demo stores in Shanghai, each with the local stack's printer.

    sh-xuhui is open 24 h; sh-lujiazui closes later on Friday and Saturday.
    """
    return [dict(store, printers=[dict(p) for p in DEMO_PRINTERS]) for store in _stores()]


def _stores() -> list[dict[str, Any]]:
    return [
        {
            "store_id": "sh-jingan",
            "name": "鲜到家 静安寺店",
            "address": "上海市静安区南京西路1618号",
            "lat": 31.2236,
            "lng": 121.4457,
            "radius_m": 3000,
            "timezone": "Asia/Shanghai",
            "minimum_order_fen": 2000,
            "delivery_fee": {"base_fee_fen": 500, "free_above_fen": 5900},
            "hours": _weekly("08:00", "22:00"),
            "active": True,
            "phone": "021-62481618",
            "opened_on": "2016-09-28",  # its 店庆 on the campaign calendar
        },
        {
            "store_id": "sh-xuhui",
            "name": "鲜到家 徐家汇店",
            "address": "上海市徐汇区漕溪北路88号",
            "lat": 31.1955,
            "lng": 121.4369,
            "radius_m": 2500,
            "timezone": "Asia/Shanghai",
            "minimum_order_fen": 1500,
            "delivery_fee": {"base_fee_fen": 600, "free_above_fen": 4900},
            "hours": _weekly("00:00", "24:00"),
            "active": True,
            "phone": "021-64380088",
            "opened_on": "2018-05-20",  # its 店庆 on the campaign calendar
        },
        {
            "store_id": "sh-lujiazui",
            "name": "鲜到家 陆家嘴店",
            "address": "上海市浦东新区世纪大道1192号",
            "lat": 31.2337,
            "lng": 121.5189,
            "radius_m": 3500,
            "timezone": "Asia/Shanghai",
            "minimum_order_fen": 3000,
            "delivery_fee": {"base_fee_fen": 800, "free_above_fen": 8800},
            "hours": _weekly("07:30", "22:30", late={4: "23:30", 5: "23:30"}),
            "active": True,
            "phone": "021-58791192",
            "opened_on": "2021-12-08",  # its 店庆 on the campaign calendar
        },
        {
            "store_id": "sh-wujiaochang",
            "name": "鲜到家 五角场店",
            "address": "上海市杨浦区淞沪路8号",
            "lat": 31.3010,
            "lng": 121.5146,
            "radius_m": 5000,
            "timezone": "Asia/Shanghai",
            "minimum_order_fen": 2500,
            "delivery_fee": {"base_fee_fen": 400, "free_above_fen": 6900},
            "hours": _weekly("08:30", "21:30"),
            "active": True,
            "phone": "021-65100008",
        },
    ]


def _catalogue_rows() -> list[tuple[dict[str, Any], int]]:
    """Every product dict together with its chain list price in fen."""
    rows: list[tuple[dict[str, Any], int]] = []
    shelf_no: dict[str, int] = {}
    for c1_index, (category1, seconds) in enumerate(CATEGORIES.items(), start=1):
        seq = 0
        for category2 in seconds:
            zone = _ZONE_OF.get((category1, category2), "D 常温区")
            letter = zone[0]
            shelf_no[letter] = shelf_no.get(letter, 0) + 1
            shelf = f"{letter}-{shelf_no[letter]:02d}"
            fresh = category1 in _FRESH_CATEGORY1 or category2 in _FRESH_CATEGORY2
            for name, unit, price_yuan in _CATALOGUE[(category1, category2)]:
                seq += 1
                sku = f"{c1_index * 100000 + seq:06d}"
                body = f"69{_BARCODE_COMPANY[category1]}{seq:05d}"
                product = {
                    "sku": sku,
                    "name": name,
                    "category1": category1,
                    "category2": category2,
                    "unit": unit,
                    "barcode": body + ean13_check_digit(body),
                    "fresh": fresh,
                    "zone": zone,
                    "shelf": shelf,
                    "image_url": f"https://img.example.com/sku/{sku}.jpg",
                    "active": name not in _INACTIVE_NAMES,
                }
                rows.append((product, round(price_yuan * 100)))
    return rows


def products() -> list[dict[str, Any]]:
    """Return the demo catalogue (about 250 SKUs), ordered by SKU.

    SKUs are ``<category1 index><5-digit sequence>`` (e.g. ``"100001"`` is the
    first vegetable), barcodes are valid EAN-13 codes with the Chinese ``69``
    prefix, and three products are inactive.
    """
    return [product for product, _ in _catalogue_rows()]


# Price level of each store against the chain list price (sh-jingan = list).
_STORE_PRICE_LEVEL: dict[str, float] = {
    "sh-jingan": 0.0,
    "sh-xuhui": 0.02,
    "sh-lujiazui": 0.05,
    "sh-wujiaochang": -0.04,
}
_ZERO_STOCK_PER_STORE = 4
_NOT_ON_SALE_STORE = "sh-wujiaochang"
_NOT_ON_SALE_COUNT = 3


def _store_price(list_fen: int, level: float, rng: random.Random) -> int:
    """A store price within ±10 % of the list price, rounded to 10 fen."""
    if level == 0.0:
        return list_fen
    factor = 1.0 + level + rng.uniform(-0.03, 0.03)
    price = round(list_fen * factor / 10) * 10
    low, high = math.ceil(list_fen * 0.9), math.floor(list_fen * 1.1)
    return max(low, min(high, price))


def store_items() -> list[dict[str, Any]]:
    """Return price and stock of every product in every store.

    sh-jingan sells at the chain list price, the other stores within ±10 % of
    it. Fresh goods carry less stock than ambient goods; each store has a few
    zero-stock items, and sh-wujiaochang has a few items not on sale.
    """
    rng = random.Random(DEMO_SEED)
    rows = _catalogue_rows()
    items: list[dict[str, Any]] = []
    for store in stores():
        store_id = store["store_id"]
        level = _STORE_PRICE_LEVEL[store_id]
        skus = [product["sku"] for product, _ in rows]
        zero_stock = set(rng.sample(skus, _ZERO_STOCK_PER_STORE))
        not_on_sale: set[str] = set()
        if store_id == _NOT_ON_SALE_STORE:
            not_on_sale = set(rng.sample(sorted(set(skus) - zero_stock), _NOT_ON_SALE_COUNT))
        for product, list_fen in rows:
            sku = product["sku"]
            price = _store_price(list_fen, level, rng)
            stock = rng.randint(5, 60) if product["fresh"] else rng.randint(20, 200)
            items.append(
                {
                    "store_id": store_id,
                    "sku": sku,
                    "price_fen": price,
                    "stock": 0 if sku in zero_stock else stock,
                    "on_sale": sku not in not_on_sale,
                }
            )
    return items


_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙")
_MOBILE_PREFIXES = ("138", "158", "188")


def members() -> list[dict[str, Any]]:
    """Return 24 demo members spread over the stores.

    Phones are obviously fake sequences (``13800000001`` ... ``18800000024``),
    one block of eight per mobile prefix.
    """
    store_ids = [store["store_id"] for store in stores()]
    result: list[dict[str, Any]] = []
    for n in range(1, 25):
        prefix = _MOBILE_PREFIXES[(n - 1) // 8]
        home = store_ids[(n - 1) % len(store_ids)]
        title = "女士" if n % 2 else "先生"
        result.append(
            {
                "customer_id": f"c-demo-{n:02d}",
                "phone": f"{prefix}{n:08d}",
                "nickname": f"{_SURNAMES[(n - 1) % len(_SURNAMES)]}{title}",
                "home_store_id": home,
                "source": f"DEMO-{home}",  # the store's QR code (member_qr_codes)
            }
        )
    return result


def stored_value_top_ups() -> list[dict[str, Any]]:
    """Paid top-ups of a few demo members (储值), so the liability report and the ledgers
    show a living programme: (customer, amount, store, key). The bonus follows the
    default tiers (¥500 → ¥50, ¥1,000 → ¥120)."""
    by_id = {m["customer_id"]: m for m in members()}
    plan = [
        ("c-demo-01", 50_000),
        ("c-demo-01", 20_000),
        ("c-demo-02", 100_000),
        ("c-demo-05", 30_000),
        ("c-demo-07", 50_000),
    ]
    return [
        {
            "customer_id": customer_id,
            "amount_fen": amount,
            "store_id": by_id[customer_id]["home_store_id"],
            "key": f"demo-topup-{customer_id}-{n}",
        }
        for n, (customer_id, amount) in enumerate(plan)
    ]


def member_qr_codes() -> list[dict[str, Any]]:
    """The QR codes demo members came through: one per store at the door, and at
    静安寺店 one on a shelf and one of its picker (员工码). Fixed codes: re-seeding finds
    them."""
    codes: list[dict[str, Any]] = [
        {
            "code": f"DEMO-{s['store_id']}",
            "kind": "store",
            "label": f"{_STAFF_PEOPLE[s['store_id']][0]} 门口",
            "store_id": s["store_id"],
        }
        for s in stores()
    ]
    codes.append(
        {
            "code": "DEMO-sh-jingan-A3",
            "kind": "shelf",
            "label": "静安寺店 水果区 A3",
            "store_id": "sh-jingan",
            "shelf": "A3",
        }
    )
    codes.append(
        {
            "code": "DEMO-sh-jingan-staff",
            "kind": "staff",
            "label": "静安寺店 拣货员 李强",
            "store_id": "sh-jingan",
            "staff_username": "sh-jingan-staff",
        }
    )
    return codes


def profile_members() -> list[dict[str, Any]]:
    """Members with a full profile who came through the shelf and staff QR codes (seeded
    after the staff accounts the staff code names), and one through another's invitation
    (``invited_by``, after them)."""
    return [
        {
            "customer_id": "c-demo-25",
            "phone": "13900000025",
            "nickname": "沈女士",
            "source": "DEMO-sh-jingan-A3",
            "birthday": "02-29",
            "gender": "female",
            "consent": True,
        },
        {
            "customer_id": "c-demo-26",
            "phone": "13900000026",
            "nickname": "韩先生",
            "source": "DEMO-sh-jingan-staff",
            "birthday": "11-08",
            "gender": "male",
            "consent": False,
        },
        {
            "customer_id": "c-demo-27",
            "phone": "13900000027",
            "nickname": "杨女士",
            "source": "DEMO-sh-jingan-staff",
            "birthday": "07-01",
            "gender": "unspecified",
            "consent": True,
        },
        {
            # Came through 韩先生's invitation (the code is derived from the stack's
            # signing key, so the seed computes it): his invite task shows a friend.
            "customer_id": "c-demo-28",
            "phone": "13900000028",
            "nickname": "朱女士",
            "invited_by": "c-demo-26",
            "birthday": "05-20",
            "gender": "female",
            "consent": True,
        },
    ]


# Short names used in display names and demo passwords of store staff.
_STAFF_PEOPLE: dict[str, tuple[str, str, str]] = {
    # store_id: (store short name, manager, picker)
    "sh-jingan": ("静安寺店", "陈静", "李强"),
    "sh-xuhui": ("徐家汇店", "王芳", "赵磊"),
    "sh-lujiazui": ("陆家嘴店", "刘洋", "孙丽"),
    "sh-wujiaochang": ("五角场店", "周杰", "吴敏"),
}


def staff() -> list[dict[str, Any]]:
    """Return the demo staff accounts: two head-office admins, and one manager
    and one picker per store.

    The passwords are DEMO-ONLY credentials printed by the local stack.
    """
    accounts: list[dict[str, Any]] = [
        {
            "username": "hq-admin",
            "role": "hq_admin",
            "store_id": None,
            "display_name": "总部运营 管理员",
            "password": "Daojia-hq-2026",
        },
        # A second head-office person: drafts above the approval threshold need two
        # approvers (issue 18 item 5, docs/promotions.md).
        {
            "username": "hq-ops",
            "role": "hq_admin",
            "store_id": None,
            "display_name": "总部运营 审批人",
            "password": "Daojia-hq-ops-2026",
        },
    ]
    for store in stores():
        store_id = store["store_id"]
        short = store_id.removeprefix("sh-")
        shop, manager, picker = _STAFF_PEOPLE[store_id]
        accounts.append(
            {
                "username": f"{store_id}-manager",
                "role": "store_manager",
                "store_id": store_id,
                "display_name": f"{shop} 店长 {manager}",
                "password": f"Daojia-{short}-mgr-2026",
            }
        )
        accounts.append(
            {
                "username": f"{store_id}-staff",
                "role": "store_staff",
                "store_id": store_id,
                "display_name": f"{shop} 拣货员 {picker}",
                "password": f"Daojia-{short}-pick-2026",
            }
        )
    return accounts


ERP_CSV_HEADER = (
    "sku",
    "name",
    "category1",
    "category2",
    "unit",
    "barcode",
    "fresh",
    "zone",
    "shelf",
    "image_url",
    "active",
)
STOCK_CSV_HEADER = ("store_id", "sku", "price_fen", "stock", "on_sale")

# One product from each of five different first-level categories.
_SAMPLE_SKUS = ("100001", "200017", "500001", "600001", "800001")


def _csv_text(header: tuple[str, ...], rows: list[list[str]]) -> str:
    """Render rows as CSV text with ``\\n`` line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def erp_sample_csv(with_bad_row: bool = True) -> str:
    """Return a 5-row products CSV as exported by the chain's ERP.

    With ``with_bad_row`` the row on line 4 (line 1 is the header) has
    ``fresh`` set to ``maybe``; every other row is valid.
    """
    by_sku = {product["sku"]: product for product in products()}
    rows: list[list[str]] = []
    for sku in _SAMPLE_SKUS:
        product = by_sku[sku]
        row = [
            _flag(product[col]) if col in ("fresh", "active") else str(product[col])
            for col in ERP_CSV_HEADER
        ]
        rows.append(row)
    if with_bad_row:
        rows[2][ERP_CSV_HEADER.index("fresh")] = "maybe"  # line 4 of the file
    return _csv_text(ERP_CSV_HEADER, rows)


def stock_sample_csv() -> str:
    """Return a small per-store price/stock CSV for the sample products.

    Covers the first three sample SKUs in sh-jingan and sh-xuhui; all rows
    are valid and match :func:`store_items`.
    """
    wanted = {(store_id, sku) for store_id in ("sh-jingan", "sh-xuhui") for sku in _SAMPLE_SKUS[:3]}
    rows = [
        [
            item["store_id"],
            item["sku"],
            str(item["price_fen"]),
            str(item["stock"]),
            _flag(item["on_sale"]),
        ]
        for item in store_items()
        if (item["store_id"], item["sku"]) in wanted
    ]
    return _csv_text(STOCK_CSV_HEADER, rows)


# Coupons and promotions run over a fixed window around the demo's date, so reseeding
# sends the same bodies and the API answers them as replays (ids are fixed too).
_DEMO_FROM = "2026-11-01T00:00:00+08:00"
_DEMO_UNTIL = "2027-12-31T00:00:00+08:00"


def coupon_templates() -> list[dict[str, Any]]:
    """Coupon templates of every kind and issuance (bodies of POST /admin/coupon-templates)."""
    return [
        {
            "template_id": "demo-30off5",
            "name": "满30减5",
            "kind": "amount_off",
            "threshold_fen": 3000,
            "amount_off_fen": 500,
            "days_after_claim": 7,
            "per_customer_limit": 3,
            "budget_fen": 5_000_00,
        },
        {
            "template_id": "demo-newcomer",
            "name": "新人礼 无门槛减3元",
            "kind": "amount_off",
            "threshold_fen": 0,
            "amount_off_fen": 300,
            "days_after_claim": 14,
            "claimable": False,
            "auto_issue": "registration",
        },
        {
            "template_id": "demo-fruit-12pct",
            "name": "水果88折 最高减20",
            "kind": "percent_off",
            "percent_off": 12,
            "cap_fen": 2000,
            "scope": {"categories": ["水果"]},
            "starts_at": _DEMO_FROM,
            "ends_at": _DEMO_UNTIL,
            "funded_by": "supplier",
            "funder": "佳沛果业",
            "budget_fen": 2_000_00,
        },
        {
            "template_id": "demo-free-delivery",
            "name": "免配送费券",
            "kind": "free_delivery",
            "days_after_claim": 7,
            "claimable": False,
            "auto_issue": "after_payment",
            "after_payment_min_fen": 8800,
        },
        {
            "template_id": "demo-1yuan-100off20",
            "name": "1元购 满100减20",
            "kind": "amount_off",
            "threshold_fen": 10000,
            "amount_off_fen": 2000,
            "days_after_claim": 30,
            "claimable": False,
            "sale_price_fen": 100,
            "total_quantity": 500,
        },
    ]


def promotions() -> list[dict[str, Any]]:
    """Checkout promotions in every store (bodies of POST /admin/promotions)."""
    window = {"starts_at": _DEMO_FROM, "ends_at": _DEMO_UNTIL}
    return [
        {
            "promotion_id": "demo-tiered",
            "kind": "tiered",
            "name": "满99减10 满199减30",
            "tiers": [
                {"threshold_fen": 9900, "off_fen": 1000},
                {"threshold_fen": 19900, "off_fen": 3000},
            ],
            **window,
        },
        {
            "promotion_id": "demo-milk-half",
            "kind": "second_half_price",
            "name": "鲜奶第二件半价",
            "scope": {"skus": ["500001", "500002"]},
            **window,
        },
        {
            "promotion_id": "demo-flash-orange",
            "kind": "flash_sale",
            "name": "秒杀 赣南脐橙",
            "sku": "200001",
            "flash_price_fen": 1990,
            "quantity": 200,
            "per_customer_limit": 2,
            "shards": 4,
            **window,
        },
    ]


def points_settings() -> dict[str, Any]:
    """The demo points rules (docs/loyalty.md): 1 point per yuan, 12 months, 7 pending
    days, 100 points = ¥1 for at most half the goods."""
    return {
        "points_per_yuan": 1,
        "expiry_policy": "fixed_months",
        "expiry_months": 12,
        "pending_days": 7,
        "cash_points_per_yuan": 100,
        "cash_cap_percent": 50,
        "allow_negative_adjustments": False,
    }


def mall_rewards() -> list[dict[str, Any]]:
    """The demo points mall (bodies of POST /admin/loyalty/mall/rewards): two coupons for
    points, a product for points only and one for points + cash (docs/loyalty.md)."""
    return [
        {
            "reward_id": "rw-demo-30off5",
            "kind": "coupon",
            "name": "满30减5券",
            "description": "300积分兑换，领取后7天有效",
            "template_id": "demo-30off5",
            "points": 300,
            "stock": 200,
            "per_member_limit": 3,
        },
        {
            "reward_id": "rw-demo-fruit",
            "kind": "coupon",
            "name": "水果88折券",
            "template_id": "demo-fruit-12pct",
            "points": 500,
            "stock": 100,
            "per_member_limit": 1,
            "ends_at": "2027-12-30T16:00:00Z",
        },
        {
            "reward_id": "rw-demo-water",
            "kind": "product",
            "name": "农夫山泉 550ml*24 积分兑",
            "description": "门店自提或配送（配送费照常）",
            "sku": "800001",
            "points": 2000,
            "stock": 30,
            "per_member_limit": 1,
        },
        {
            "reward_id": "rw-demo-rice",
            "kind": "product",
            "name": "东北大米 5kg 积分+9.9元",
            "sku": "600001",
            "points": 800,
            "cash_fen": 990,
            "stock": 50,
            "per_member_limit": 2,
        },
    ]


def points_history() -> list[dict[str, Any]]:
    """Points of the first eight demo members, relative to today: welcome points long
    matured, a few daily rewards, and a recent order's points still pending."""
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    out: list[dict[str, Any]] = []
    for n, member in enumerate(members()[:8], start=1):
        cid = member["customer_id"]
        out.append(
            {
                "customer_id": cid,
                "points": 100,
                "ref": "task:welcome",
                "reason": "新会员积分",
                "occurred_at": (today - timedelta(days=60 + n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "pending_days": 0,
            }
        )
        for day in range(n % 4):
            at = today - timedelta(days=day + 1)
            out.append(
                {
                    "customer_id": cid,
                    "points": 5,
                    "ref": f"demo:daily:{at.date().isoformat()}",
                    "reason": "每日奖励",
                    "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "pending_days": 0,
                }
            )
        if n % 2:
            out.append(
                {
                    "customer_id": cid,
                    "points": 40 + 7 * n,
                    "ref": f"earn:order:DEMO{n:010d}",
                    "reason": "订单完成",
                    "occurred_at": (today - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "pending_days": 7,
                    "order_id": f"DEMO{n:010d}",
                }
            )
    return out


# --- loyalty programme: levels, check-in, tasks (issue 14 items 4 and 5) -------------------
def programme_coupon_templates() -> list[dict[str, Any]]:
    """The level-up and birthday gifts the levels name (not claimable, issued by loyalty)."""
    gift = {"kind": "amount_off", "claimable": False, "days_after_claim": 30}
    return [
        {
            "template_id": "demo-levelup-v2",
            "name": "升级礼 满50减5",
            "threshold_fen": 5000,
            "amount_off_fen": 500,
            **gift,
        },
        {
            "template_id": "demo-levelup-v3",
            "name": "升级礼 满80减10",
            "threshold_fen": 8000,
            "amount_off_fen": 1000,
            **gift,
        },
        {
            "template_id": "demo-levelup-v4",
            "name": "升级礼 满100减20",
            "threshold_fen": 10000,
            "amount_off_fen": 2000,
            **gift,
        },
        {
            "template_id": "demo-levelup-v5",
            "name": "升级礼 满100减30",
            "threshold_fen": 10000,
            "amount_off_fen": 3000,
            **gift,
        },
        {
            "template_id": "demo-birthday",
            "name": "生日礼 无门槛减10元",
            "threshold_fen": 0,
            "amount_off_fen": 1000,
            **gift,
        },
    ]


def paid_plans() -> list[dict[str, Any]]:
    """The demo paid membership plans (付费会员卡): month, quarter and year, each with free
    delivery and a member discount; the longer ones cheaper per month and with a monthly
    coupon pack (a demo template)."""
    return [
        {
            "plan_id": "plan-month",
            "name": "月卡",
            "period": "month",
            "price_fen": 1500,
            "free_delivery": True,
            "discount_permille": 20,
            "coupon_template_ids": [],
        },
        {
            "plan_id": "plan-quarter",
            "name": "季卡",
            "period": "quarter",
            "price_fen": 3900,
            "free_delivery": True,
            "discount_permille": 30,
            "coupon_template_ids": ["demo-30off5"],
        },
        {
            "plan_id": "plan-year",
            "name": "年卡",
            "period": "year",
            "price_fen": 12800,
            "free_delivery": True,
            "discount_permille": 50,
            "coupon_template_ids": ["demo-30off5", "demo-free-delivery"],
        },
    ]


def loyalty_levels() -> dict[str, Any]:
    """Body of PUT /admin/loyalty/levels: V1-V5 with their benefits."""
    rows = [
        ("V1", "普通会员", 0, 1000, 1.0, None, None),
        ("V2", "白银会员", 500, 990, 1.2, 5900, "demo-levelup-v2"),
        ("V3", "黄金会员", 2000, 980, 1.5, 3900, "demo-levelup-v3"),
        ("V4", "铂金会员", 5000, 960, 1.8, 1900, "demo-levelup-v4"),
        ("V5", "钻石会员", 12000, 950, 2.0, 0, "demo-levelup-v5"),
    ]
    return {
        "growth_per_yuan": 1,
        "levels": [
            {
                "code": code,
                "name": name,
                "threshold": threshold,
                "discount_permille": permille,
                "points_multiplier": mult,
                "free_delivery_min_fen": free,
                "birthday_template_id": None if code == "V1" else "demo-birthday",
                "level_up_template_id": gift,
            }
            for code, name, threshold, permille, mult, free, gift in rows
        ],
        "downgrade": {"mode": "recent_growth", "months": 12, "notice_days": 7},
    }


def checkin_settings() -> dict[str, Any]:
    """Body of PUT /admin/loyalty/checkin-settings."""
    return {
        "daily_points": 5,
        "streak_rewards": [{"day": 3, "points": 10}, {"day": 7, "points": 30}],
        "cumulative_rewards": [{"day": 10, "points": 20}, {"day": 20, "points": 50}],
        "streak_reset": "none",
        "timezone": "Asia/Shanghai",
    }


def loyalty_tasks() -> dict[str, Any]:
    """Body of PUT /admin/loyalty/tasks."""
    task = {"target": 1, "active": True}
    return {
        "tasks": [
            {
                **task,
                "task_id": "profile",
                "kind": "profile",
                "name": "完善资料",
                "points": 50,
                "growth": 20,
            },
            {
                **task,
                "task_id": "first-order",
                "kind": "first_order",
                "name": "完成首单",
                "points": 100,
                "growth": 50,
            },
            {
                **task,
                "task_id": "monthly-4",
                "kind": "orders_in_month",
                "name": "本月下单4次",
                "target": 4,
                "points": 80,
                "growth": 40,
            },
            {
                **task,
                "task_id": "invite",
                "kind": "invite",
                "name": "邀请好友",
                "points": 100,
                "growth": 30,
            },
        ]
    }


def member_growth() -> dict[str, int]:
    """Growth value of a few demo members, so the levels show members at each."""
    return {"c-demo-01": 12_600, "c-demo-02": 5_400, "c-demo-03": 2_300, "c-demo-04": 720}


def paid_cards() -> list[dict[str, Any]]:
    """Demo members with a card: three buy a plan (one renews), one has the free trial."""
    ms = members()
    return [
        {"customer_id": ms[0]["customer_id"], "plan_id": "plan-year", "key": "demo-card-0001"},
        {"customer_id": ms[1]["customer_id"], "plan_id": "plan-month", "key": "demo-card-0002"},
        {"customer_id": ms[1]["customer_id"], "plan_id": "plan-month", "key": "demo-card-0003"},
        {"customer_id": ms[2]["customer_id"], "plan_id": "plan-quarter", "key": "demo-card-0004"},
        {"customer_id": ms[3]["customer_id"], "trial": True},
    ]


# --- issue 18: promotions a marketer steers (docs/promotions.md) -----------------------


def marketing_promotions() -> list[dict[str, Any]]:
    """Promotions that show the marketer's controls without changing the demo carts'
    prices: a 满件减 on yogurt awaiting its second approval (a budget above the
    two-approver threshold), so it is not live until someone else approves it."""
    return [
        {
            "promotion_id": "demo-yogurt-3for",
            "kind": "tiered",
            "name": "酸奶 满3件减5 满5件减10",
            "basis": "units",
            "tiers": [
                {"threshold_fen": 3, "off_fen": 500},
                {"threshold_fen": 5, "off_fen": 1000},
            ],
            "scope": {"categories": ["乳品烘焙/酸奶"]},
            "budget_fen": 8_000_000,
            "limits": {"per_customer_per_day": 1},
            "starts_at": _DEMO_FROM,
            "ends_at": _DEMO_UNTIL,
        }
    ]


def marketing_templates() -> list[dict[str, Any]]:
    """A shareable code (通用码) and a supplier-funded coupon that stacks with a store
    coupon (stack groups), both published."""
    return [
        {
            "template_id": "demo-code-daojia",
            "name": "口令券 满50减8",
            "kind": "amount_off",
            "threshold_fen": 5000,
            "amount_off_fen": 800,
            "days_after_claim": 7,
            "total_quantity": 1000,
            "per_customer_limit": 1,
            "code": "DAOJIA2026",
            "stacking": {"stack_group": "store"},
        },
        {
            "template_id": "demo-supplier-dairy",
            "name": "乳品厂商券 满60减6",
            "kind": "amount_off",
            "threshold_fen": 6000,
            "amount_off_fen": 600,
            "days_after_claim": 14,
            "per_customer_limit": 1,
            "scope": {"categories": ["乳品烘焙"]},
            "funded_by": "supplier",
            "funder": "光明乳业",
            "stacking": {"stack_group": "supplier"},
        },
    ]
