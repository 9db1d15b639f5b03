"""The self-test page: proves a printer prints Chinese, shows which paper width it really
has (a 32- and a 48-column ruler) and that QR codes scan."""

from __future__ import annotations

import time

from print_relay import layout
from print_relay.escpos_out import TicketBytes

QR_PREFIX = "DAOJIA-SELFTEST"


def ruler(columns: int) -> str:
    """``1234567890123…`` exactly ``columns`` wide."""
    return "".join(str((i + 1) % 10) for i in range(columns))


def selftest_page(
    printer_name: str, paper_mm: int, store_id: str, now: float | None = None
) -> bytes:
    """ESC/POS bytes of the test page for one printer. The rulers are sent unwrapped, so
    the printer itself shows where its line ends: on 58 mm paper the 48-column ruler
    wraps after 32."""
    moment = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    cols = layout.columns_for(paper_mm)
    out = TicketBytes().init().chinese(True)
    out.align("center").bold(True).size(2, 2).line("打印测试").size(1, 1).bold(False)
    out.line("Daojia 到家 print relay")
    out.line(f"门店 {store_id}")
    out.line(f"打印机 {printer_name}")
    out.line(f"设置纸宽 {paper_mm} mm = {cols} 列")
    out.line(moment)
    out.align("left").feed(1)
    out.line("中文: 鲜到家 赣南脐橙 光明鲜牛奶")
    out.line("金额: ￥12.34  全角：，。！？【】")
    out.size(2, 2).line("今日第 8 单").size(1, 1)
    out.feed(1)
    out.line("58 mm 纸 (32 列):")
    out.line(ruler(32))
    out.line("80 mm 纸 (48 列):")
    out.line(ruler(48))
    out.line("48 列一行打不下 = 58 mm 纸;")
    out.line("请确认与设置纸宽一致")
    out.feed(1)
    out.align("center").qr(f"{QR_PREFIX}-{store_id}").line()
    out.line("扫码应得到:")
    out.line(f"{QR_PREFIX}-{store_id}")
    out.align("left").feed(2).cut()
    return out.build()
