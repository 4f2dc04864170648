"""The vocabulary of a synthetic network: places, name parts and product catalogues.

Names are composed from parts (city + brand + trade), the way real registrations read, so a demo shows
"杭州恒丰冷链食品一级批发市场" rather than "org 17". Division codes are the GB/T 2260 codes of the cities,
used in the organisations' credit codes (positions 3-8) and locations.
"""

from __future__ import annotations

from typing import Final

# (city, province, GB/T 2260 division code)
CITIES: Final = (
    ("杭州", "浙江", "330100"), ("宁波", "浙江", "330200"), ("温州", "浙江", "330300"), ("嘉兴", "浙江", "330400"),
    ("湖州", "浙江", "330500"), ("绍兴", "浙江", "330600"), ("金华", "浙江", "330700"), ("衢州", "浙江", "330800"),
    ("舟山", "浙江", "330900"), ("台州", "浙江", "331000"), ("丽水", "浙江", "331100"), ("南京", "江苏", "320100"),
    ("无锡", "江苏", "320200"), ("苏州", "江苏", "320500"), ("南通", "江苏", "320600"), ("合肥", "安徽", "340100"),
    ("芜湖", "安徽", "340200"), ("福州", "福建", "350100"), ("厦门", "福建", "350200"), ("上海", "上海", "310100"),
)  # fmt: skip
PORT_CITIES: Final = (
    ("上海", "310100"),
    ("宁波", "330200"),
    ("天津", "120100"),
    ("青岛", "370200"),
    ("广州", "440100"),
)
DISTRICTS: Final = (
    "东城", "西城", "城南", "城北", "滨江", "临江", "高新", "开发", "新城", "湖滨", "江南", "江北", "港区", "经开",
    "南湖", "北湖", "东湖", "西溪", "钱塘", "双桥",
)  # fmt: skip
STREETS: Final = (
    "文一", "文二", "解放", "人民", "建设", "中山", "延安", "学院", "体育场", "新华", "和平", "环城", "凤起", "庆春",
    "秋涛", "莫干山", "天目山", "古墩", "丰潭", "江南",
)  # fmt: skip
BRAND_PARTS: Final = (
    "恒", "泰", "华", "盛", "嘉", "鑫", "丰", "源", "海", "达", "远", "润", "新", "康", "鲜", "瑞", "宏", "安", "德",
    "隆", "祥", "宇", "正", "信", "和", "顺", "昌", "永", "兴", "百", "佳", "美", "好", "优", "金", "银", "绿", "禾",
)  # fmt: skip
SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志文斌玉兰海燕"
MARKETS: Final = ("农贸市场", "菜市场", "综合市场", "生鲜市场")
CUISINES: Final = ("火锅", "烧烤", "牛排", "湘菜", "粤菜", "杭帮菜", "西餐", "日料", "快餐", "面馆")
SUPERMARKET_KINDS: Final = ("超市", "生活超市", "生鲜超市", "购物中心")

# (name, name_en, origin countries, transformable carcass?)
COLD_PRODUCTS: Final = (
    ("冷冻带骨牛肉", "Frozen bone-in beef", ("BR", "AR", "UY", "AU", "NZ"), True),
    ("冷冻去骨牛腩", "Frozen boneless beef brisket", ("BR", "AR", "AU"), True),
    ("冷冻猪前腿", "Frozen pork shoulder", ("ES", "DK", "CA", "US", "NL"), True),
    ("冷冻猪肋排", "Frozen pork ribs", ("ES", "DK", "DE"), True),
    ("冷冻羊排", "Frozen lamb rack", ("NZ", "AU"), True),
    ("冷冻鸡翅中", "Frozen chicken mid-wings", ("BR", "US", "TH"), False),
    ("冷冻鸡爪", "Frozen chicken feet", ("BR", "US", "AR"), False),
    ("冷冻三文鱼", "Frozen Atlantic salmon", ("NO", "CL", "FO"), False),
    ("冷冻南美白虾", "Frozen whiteleg shrimp", ("EC", "IN", "VN"), False),
    ("冷冻鳕鱼", "Frozen cod", ("RU", "NO", "IS"), False),
)
CUT_PRODUCTS: Final = (
    ("分割牛肉 500克/盒", "Beef cuts 500 g pack"),
    ("分割猪肉 500克/盒", "Pork cuts 500 g pack"),
    ("羊肉卷 400克/盒", "Lamb rolls 400 g pack"),
)
FARM_PRODUCTS: Final = (
    ("菠菜", "Spinach"), ("小白菜", "Bok choy"), ("西红柿", "Tomatoes"), ("黄瓜", "Cucumbers"),
    ("土豆", "Potatoes"), ("胡萝卜", "Carrots"), ("茄子", "Aubergines"), ("青椒", "Green peppers"),
    ("苹果", "Apples"), ("草莓", "Strawberries"), ("杨梅", "Bayberries"), ("柑橘", "Mandarins"), ("鸡蛋", "Eggs"),
    ("西兰花", "Broccoli"), ("芹菜", "Celery"),
)  # fmt: skip
VACCINES: Final = (
    ("流感病毒裂解疫苗", "Influenza vaccine (split virion)"),
    ("乙型肝炎疫苗（重组）", "Hepatitis B vaccine (recombinant)"),
    ("冻干人用狂犬病疫苗（Vero细胞）", "Rabies vaccine (Vero cell), freeze-dried"),
    ("吸附无细胞百白破联合疫苗", "DTaP vaccine"),
    ("麻腮风联合减毒活疫苗", "MMR vaccine, live"),
    ("水痘减毒活疫苗", "Varicella vaccine, live"),
    ("13价肺炎球菌多糖结合疫苗", "13-valent pneumococcal conjugate vaccine"),
    ("双价人乳头瘤病毒疫苗", "Bivalent HPV vaccine"),
    ("甲型肝炎灭活疫苗", "Hepatitis A vaccine, inactivated"),
    ("EV71型肠道病毒灭活疫苗", "Enterovirus 71 vaccine, inactivated"),
)
