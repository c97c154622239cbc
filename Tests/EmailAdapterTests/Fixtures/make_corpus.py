#!/usr/bin/env python3
"""Writes the EmailAdapter test corpus: real-world-shaped .eml files, CRLF as on the wire.

Run from anywhere: `python3 Tests/EmailAdapterTests/Fixtures/make_corpus.py`. The output is
byte-for-byte reproducible (no clock, no randomness, zlib level 0 only), so the committed .eml
files can be regenerated and diffed at any time.

Every non-ASCII byte in the corpus comes from Python's codecs (`str.encode(charset)`), base64 from
`base64`, quoted-printable from `binascii.b2a_qp`: nothing is hand-encoded. Header shapes follow
what each client is known to send (X-Mailer, Thread-Index, Content-Language, boundaries...); all
names, addresses, ids and signatures are invented.

The expectations in MIMECorpusTests.swift are written against the texts below; when a text
changes here, change it there too. The script prints each attachment's size for the tests.
"""

import base64
import binascii
import hashlib
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------

def crlf(text: str) -> str:
    """Text written with \\n in this file, with CRLF line ends as on the wire."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def headers(text: str) -> bytes:
    """A header block (ASCII only, folds written as continuation lines), ended by the blank line."""
    block = text.strip("\n") + "\n\n"
    return crlf(block).encode("ascii")


def b64_body(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    lines = [encoded[i:i + width] for i in range(0, len(encoded), width)]
    return CRLF.join(lines) + CRLF


def qp_body(data: bytes) -> bytes:
    """Quoted-printable of CRLF text: soft line breaks at 76 (they may fall inside a multi-byte
    character, as in gmail.eml), CRLF kept as hard breaks."""
    assert b"\n" not in data.replace(CRLF, b"")
    if not data.endswith(CRLF):
        data += CRLF  # b2a_qp picks CRLF soft breaks from the first line end it sees
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    assert encoded.count(b"\n") == encoded.count(CRLF)
    return encoded if encoded.endswith(CRLF) else encoded + CRLF


def text_bytes(text: str, codec: str) -> bytes:
    return crlf(text).encode(codec)


def iso2022jp_bytes(text: str) -> bytes:
    """RFC 1468: every line is encoded on its own, so it ends back in ASCII."""
    return CRLF.join(line.encode("iso2022_jp") for line in text.split("\n"))


def ew_b(text: str, label: str, codec: str) -> str:
    """One RFC 2047 B encoded word."""
    return "=?%s?B?%s?=" % (label, base64.b64encode(text.encode(codec)).decode("ascii"))


def ew_q(text: str, label: str, codec: str) -> str:
    """One RFC 2047 Q encoded word (the restricted set for 'text' headers and phrases)."""
    out = []
    for byte in text.encode(codec):
        char = chr(byte)
        if byte == 0x20:
            out.append("_")
        elif (char.isascii() and char.isalnum()) or char in "!*+-/":
            out.append(char)
        else:
            out.append("=%02X" % byte)
    return "=?%s?Q?%s?=" % (label, "".join(out))


def part(head: str, body: bytes) -> bytes:
    return headers(head) + body


def qp_text(subtype: str, charset: str, text: str, codec: str) -> bytes:
    """A text part in quoted-printable, its charset labelled as the client writes it and encoded with `codec`."""
    return part(f'Content-Type: text/{subtype}; charset="{charset}"\nContent-Transfer-Encoding: quoted-printable',
                qp_body(text_bytes(text, codec)))


def qp_alternative(boundary: str, charset: str, plain: str, html: str, codec: str, preamble: bytes = b"") -> bytes:
    """A multipart/alternative body of a text and an HTML part, both quoted-printable in one charset."""
    return multipart(boundary, [qp_text("plain", charset, plain, codec), qp_text("html", charset, html, codec)], preamble=preamble)


def multipart(boundary: str, parts, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """Parts with their delimiters; each part's final CRLF belongs to the next delimiter."""
    out = preamble
    for p in parts:
        if not p.endswith(CRLF):
            p += CRLF
        out += b"--" + boundary.encode("ascii") + CRLF + p
    out += b"--" + boundary.encode("ascii") + b"--" + CRLF + epilogue
    return out


def fake_signature(seed: str, length: int) -> str:
    """Deterministic base64 that looks like a DKIM b= / bh= value."""
    data = b""
    counter = 0
    while len(data) * 4 // 3 < length:
        data += hashlib.sha256(("%s/%d" % (seed, counter)).encode()).digest()
        counter += 1
    return base64.b64encode(data).decode("ascii")[:length]


def fold_value(value: str, first: int, width: int = 72) -> str:
    """Chops a long token (a DKIM signature) into tab-indented continuation lines."""
    chunks = [value[:first]]
    rest = value[first:]
    while rest:
        chunks.append(rest[:width])
        rest = rest[width:]
    return "\n\t ".join(chunks)


# Binary attachments, built so the bytes are exact and reproducible.

def tiny_pdf() -> bytes:
    body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n"
        b"4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 770 Td (Recu 10442) Tj ET\nendstream\nendobj\n"
        b"trailer\n<< /Root 1 0 R /Size 5 >>\nstartxref\n299\n%%EOF\n"
    )
    assert len(body) % 3 != 0  # so the base64 ends in padding
    return body


def tiny_png(width: int = 2, height: int = 2, rgb=(0x1F, 0x6F, 0xEB)) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0))
            + chunk(b"IEND", b""))


def tiny_jpeg() -> bytes:
    # A JFIF header and end marker around filler: enough to be recognised by its first bytes.
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    filler = bytes((i * 37 + 11) % 256 for i in range(301))
    return b"\xff\xd8" + app0 + b"\xff\xfe" + struct.pack(">H", 2 + len(filler)) + filler + b"\xff\xd9"


def tiny_gif() -> bytes:
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
            b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


SIZES = {}


def remember(name: str, data: bytes) -> bytes:
    SIZES[name] = len(data)
    return data


# ---------------------------------------------------------------------------------------------
# The messages
# ---------------------------------------------------------------------------------------------

def outlook() -> bytes:
    plain = """Hello,

Thanks for the quick answer. The naïve total on the café invoice should be 42,50 € and not 45 €; could you send a corrected copy before Friday so our accounts team can close the month?

Best regards,
Chloé Martin
Contoso Café – Accounts

________________________________
From: Support <support@example.test>
Sent: Monday, November 2, 2026 10:00 AM
To: Chloé Martin <chloe.martin@contoso.example>
Subject: Invoice 10442 – café order

Dear Chloé,

Thank you for your order; your invoice 10442 is attached.

Kind regards,
The Support Team
"""
    html = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=Windows-1252">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
	{font-family:"Cambria Math";
	panose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face
	{font-family:Calibri;
	panose-1:2 15 5 2 2 2 4 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{margin:0cm;
	font-size:11.0pt;
	font-family:"Calibri",sans-serif;
	mso-fareast-language:EN-US;}
span.EmailStyle18
	{mso-style-type:personal-reply;
	font-family:"Calibri",sans-serif;
	color:windowtext;}
.MsoChpDefault
	{mso-style-type:export-only;
	font-size:10.0pt;}
@page WordSection1
	{size:612.0pt 792.0pt;
	margin:70.85pt 70.85pt 70.85pt 70.85pt;}
div.WordSection1
	{page:WordSection1;}
--></style>
</head>
<body lang="FR" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
<p class="MsoNormal"><span lang="EN-US">Hello,<o:p></o:p></span></p>
<p class="MsoNormal"><span lang="EN-US"><o:p>&nbsp;</o:p></span></p>
<p class="MsoNormal"><span lang="EN-US">Thanks for the quick answer. The naïve total on the café invoice should be 42,50 € and not 45 €; could you send a corrected copy before Friday so our accounts team can close the month?<o:p></o:p></span></p>
<p class="MsoNormal"><span lang="EN-US"><o:p>&nbsp;</o:p></span></p>
<p class="MsoNormal"><span lang="EN-US">Best regards,<br>Chloé Martin<br>Contoso Café – Accounts<o:p></o:p></span></p>
<p class="MsoNormal"><span lang="EN-US"><o:p>&nbsp;</o:p></span></p>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class="MsoNormal"><b><span lang="EN-US">From:</span></b><span lang="EN-US"> Support &lt;support@example.test&gt;
<br>
<b>Sent:</b> Monday, November 2, 2026 10:00 AM<br>
<b>To:</b> Chloé Martin &lt;chloe.martin@contoso.example&gt;<br>
<b>Subject:</b> Invoice 10442 – café order<o:p></o:p></span></p>
</div>
<p class="MsoNormal"><span lang="EN-US">Dear Chloé,<br><br>Thank you for your order; your invoice 10442 is attached.<br><br>Kind regards,<br>The Support Team<o:p></o:p></span></p>
</div>
</body>
</html>
"""
    boundary = "_000_AM0PR01MB5678A1B2C3D4E5F6A7B8C9D0E1F2AM0PR01MB5678eurp_"
    subject_tail = ew_q("– café order", "Windows-1252", "cp1252")
    head = f"""Received: from AM0PR01MB5678.eurprd01.prod.exchangelabs.com (2603:10a6:208:12f::14)
 by AM0PR01MB1234.eurprd01.prod.exchangelabs.com with HTTPS; Mon, 2 Nov 2026
 14:32:11 +0000
From: {ew_q("Chloé Martin", "iso-8859-1", "latin-1")} <chloe.martin@contoso.example>
To: Support <support@example.test>
Subject: RE: Invoice 10442 {subject_tail}
Thread-Topic: Invoice 10442 {subject_tail}
Thread-Index: AQHbLx2a7y3k1mY4QkK0c6h2sJd0nbKpQ3xA
Date: Mon, 2 Nov 2026 14:32:10 +0000
Message-ID: <AM0PR01MB5678A1B2C3D4E5F6A7B8C9D0E1F2@AM0PR01MB5678.eurprd01.prod.exchangelabs.com>
References: <msg_01JD0000000000000000000001@example.test>
In-Reply-To: <msg_01JD0000000000000000000001@example.test>
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
X-Mailer: Microsoft Outlook 16.0
x-ms-publictraffictype: Email
x-ms-exchange-organization-authas: Internal
Content-Type: multipart/alternative;
	boundary="{boundary}"
MIME-Version: 1.0"""
    body = qp_alternative(boundary, "Windows-1252", plain, html, "cp1252")
    return headers(head) + body


def gmail() -> bytes:
    plain = """Hi,

I'm still waiting for the parcel — the tracking page hasn't moved since Friday. Could you check with the courier, please, and let me know? 🙏

José

On Mon, 2 Nov 2026 at 10:00, Support <support@example.test> wrote:

> Hello José,
>
> Your parcel left our warehouse on Friday and should arrive within two
> days.
>
> Support team
>
"""
    html = ('<div dir="ltr"><div>Hi,</div><div><br></div><div>I&#39;m still waiting for the parcel — the tracking page '
            'hasn&#39;t moved since Friday. Could you check with the courier, please, and let me know? 🙏</div><div><br></div><div>José</div>'
            '</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, 2 Nov 2026 at 10:00, '
            'Support &lt;<a href="mailto:support@example.test">support@example.test</a>&gt; wrote:<br></div>'
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            'Hello José,<br><br>Your parcel left our warehouse on Friday and should arrive within two days.<br><br>Support team'
            '</blockquote></div>\n')
    boundary = "000000000000a1b2c3d4e5f60718"
    dkim = fold_value(fake_signature("gmail-dkim", 344), 20)
    head = f"""Delivered-To: support@example.test
Received: by 2002:a05:7010:1a2b:b0:3c4:5d6e:7f80 with SMTP id x11csp1234567mdb;
        Mon, 2 Nov 2026 02:15:43 -0800 (PST)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
        d=gmail.example; s=20230601; t=1793610943; x=1794215743; darn=example.test;
        h=to:subject:message-id:date:from:in-reply-to:references:mime-version
         :from:to:cc:subject:date:message-id:reply-to;
        bh={fake_signature("gmail-bh", 43)}=;
        b={dkim}
X-Gm-Message-State: AOJu0Yx{fake_signature("gmail-state", 60)}
X-Google-Smtp-Source: AGHT+IF{fake_signature("gmail-source", 80)}
MIME-Version: 1.0
References: <msg_01JD0000000000000000000002@example.test>
In-Reply-To: <msg_01JD0000000000000000000002@example.test>
From: {ew_q("José García", "UTF-8", "utf-8")} <jose.garcia@example.com>
Date: Mon, 2 Nov 2026 11:15:42 +0100
X-Gm-Features: AWmQ_bk{fake_signature("gmail-features", 40)}
Message-ID: <CAH7r9xQ+5fV2kz0E3oUuYwq1nT8Zb3mL4cRk7sJp0aD1w6XyQg@mail.gmail.com>
Subject: {ew_b("Re: Your parcel 📦 is late", "UTF-8", "utf-8")}
To: Support <support@example.test>
Content-Type: multipart/alternative; boundary="{boundary}\""""
    body = qp_alternative(boundary, "UTF-8", plain, html, "utf-8")
    return headers(head) + body


def apple_mail() -> bytes:
    plain = """Bonjour,

Please find attached the receipt for order 10442. The logo below is ours.

Merci beaucoup !
Léa
"""
    cid = "A1B2C3D4-E5F6-4789-ABCD-0123456789AB"
    html = ('<html aria-label="message body"><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
            '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">Bonjour,'
            '<div><br></div><div>Please find attached the receipt for order 10442. The logo below is ours.</div><div><br></div>'
            f'<div><img apple-inline="yes" id="5E6F7A8B-0001" src="cid:{cid}" alt="logo.png"></div><div><br></div>'
            '<div>Merci beaucoup !</div><div>Léa</div></body></html>')
    outer = "Apple-Mail=_5B1F0E2C-7A3D-4C1B-9E8F-2D6A4B3C1E0F"
    alternative = "Apple-Mail=_6C2A1F3D-8B4E-4D2C-AF90-3E7B5C4D2F1A"
    related = "Apple-Mail=_7D3B2A4E-9C5F-4E3D-B0A1-4F8C6D5E3A2B"
    png = remember("apple_mail logo.png", tiny_png())
    pdf = remember("apple_mail Reçu.pdf", tiny_pdf())
    head = f"""Return-Path: <lea.dubois@icloud.example>
From: {ew_q("Léa Dubois", "utf-8", "utf-8")} <lea.dubois@icloud.example>
Content-Type: multipart/mixed;
	boundary="{outer}"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.200.121\\))
Subject: {ew_q("Reçu pour ma commande", "utf-8", "utf-8")}
Date: Tue, 3 Nov 2026 09:12:44 +0100
Message-Id: <8F2C1A3B-4D5E-4F60-9A7B-C8D9E0F1A2B3@icloud.example>
To: support@example.test
X-Mailer: Apple Mail (2.3826.200.121)"""
    related_part = part(f'Content-Type: multipart/related;\n\ttype="text/html";\n\tboundary="{related}"', multipart(related, [
        part("Content-Transfer-Encoding: quoted-printable\nContent-Type: text/html;\n\tcharset=utf-8",
             qp_body(text_bytes(html, "utf-8"))),
        part(f'Content-Transfer-Encoding: base64\nContent-Disposition: inline;\n\tfilename=logo.png\n'
             f'Content-Type: image/png;\n\tx-unix-mode=0644;\n\tname="logo.png"\nContent-Id: <{cid}>', b64_body(png)),
    ]))
    alternative_part = part(f'Content-Type: multipart/alternative;\n\tboundary="{alternative}"', multipart(alternative, [
        part("Content-Transfer-Encoding: quoted-printable\nContent-Type: text/plain;\n\tcharset=utf-8",
             qp_body(text_bytes(plain, "utf-8"))),
        related_part,
    ]))
    pdf_part = part("Content-Disposition: attachment;\n\tfilename*=utf-8''Re%C3%A7u.pdf\n"
                    f'Content-Type: application/pdf;\n\tx-unix-mode=0644;\n\tname="{ew_q("Reçu.pdf", "utf-8", "utf-8")}"\n'
                    "Content-Transfer-Encoding: base64", b64_body(pdf))
    return headers(head) + multipart(outer, [alternative_part, pdf_part])


def gbk() -> bytes:
    subject = "关于订单10442的发票问题"
    plain = """您好：

我在上周购买的商品还没有收到，请帮我查询一下物流信息。另外，发票抬头请写“深圳市喆越科技有限公司”。

谢谢！
王喆
"""
    # 喆 is in GBK but not in GB2312: decoding as GB2312 alone would lose it.
    head = f"""Received: from wangzhe$163.example ( [203.0.113.45] ) by ajax-webmail-wmsvr41
 (Coremail) ; Wed, 4 Nov 2026 10:21:37 +0800 (CST)
X-Originating-IP: [203.0.113.45]
Date: Wed, 4 Nov 2026 10:21:37 +0800 (CST)
From: {ew_b("王喆", "GBK", "gbk")} <wangzhe@163.example>
To: support@example.test
Subject: {ew_b(subject, "GBK", "gbk")}
X-Priority: 3
X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)
 Copyright (c) 2002-2026 www.mailtech.cn 163com
X-NTES-SC: AL_Qu2xBf2eu0Et5yGbYekfmkcVgOw9UcO5v/Qk3oZXOJF8jCHp0T4KZUBhNkLb/s6B
Content-Type: text/plain; charset=GBK
Content-Transfer-Encoding: base64
MIME-Version: 1.0
Message-ID: <3c5a1b2d.4e6f.19a3b2c1d0e.Coremail.wangzhe@163.example>
X-Coremail-Locale: zh_CN
X-CM-TRANSID:_____wD3_0VxbSlpAbCdAA--.12345S2
X-Coremail-Antispam: 1Uf129KBjDUn29KB7ZKAUJUUUUU529EdanIXcx71UUUUU7v73"""
    return headers(head) + b64_body(text_bytes(plain, "gbk"))


def gb2312() -> bytes:
    subject = "退款申请（订单10442）"
    plain = """您好，

请问退款什么时候能到账？订单号是10442。

李娜
"""
    html = """<html><head><meta http-equiv="content-type" content="text/html; charset=gb2312"><style>body { line-height: 1.5; }</style></head><body>
<div><span></span>您好，</div><div><br></div><div>请问退款什么时候能到账？订单号是10442。</div><div><br></div><div>李娜</div>
</body></html>
"""
    boundary = "----=_001_NextPart572182624333_=----"
    head = f"""Date: Thu, 5 Nov 2026 08:45:10 +0800
From: {ew_b("李娜", "gb2312", "gb2312")} <lina@foxmail.example>
To: support <support@example.test>
Subject: {ew_q(subject, "gb2312", "gb2312")}
X-Priority: 3
X-GUID: 5D0E4E1C-2B7A-4C3D-9E8F-0A1B2C3D4E5F
X-Has-Attach: no
X-Mailer: Foxmail 7.2.25.254[cn]
Mime-Version: 1.0
Message-ID: <202611050845099271823@foxmail.example>
Content-Type: multipart/alternative;
	boundary="{boundary}\""""
    body = multipart(boundary, [
        part('Content-Type: text/plain;\n\tcharset="gb2312"\nContent-Transfer-Encoding: quoted-printable',
             qp_body(text_bytes(plain, "gb2312"))),
        part('Content-Type: text/html;\n\tcharset="gb2312"\nContent-Transfer-Encoding: quoted-printable',
             qp_body(text_bytes(html, "gb2312"))),
    ], preamble=b"This is a multi-part message in MIME format." + CRLF + CRLF)
    return headers(head) + body


def iso2022jp() -> bytes:
    plain = """サポートご担当者様

お世話になっております。田中です。
先日注文した商品をキャンセルしたいです。
注文番号は10442です。

よろしくお願いいたします。

田中太郎
"""
    head = f"""Date: Tue, 03 Nov 2026 18:20:00 +0900
From: {ew_b("田中太郎", "ISO-2022-JP", "iso2022_jp")} <tanaka@example.jp>
To: support@example.test
Subject: {ew_b("注文のキャンセルについて", "ISO-2022-JP", "iso2022_jp")}
Message-Id: <20261103182000.A1B2.TANAKA@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit
X-Mailer: Becky! ver. 2.81.05 [ja]"""
    body = iso2022jp_bytes(crlf(plain).replace("\r\n", "\n"))
    assert all(b < 0x80 for b in body)
    return headers(head) + body


def shift_jis() -> bytes:
    # ソ and 表 end in the byte 0x5C ("\\" in ASCII): a parser must not treat it as an escape.
    plain = """株式会社サンプル サポート窓口 御中

ソフトウェア利用料の請求書の表記に誤りがあります。
宛名を「株式会社ソラ表参道」に修正して再発行していただけますか。

佐藤花子
"""
    head = f"""Date: Fri, 6 Nov 2026 13:05:27 +0900
From: {ew_b("佐藤花子", "Shift_JIS", "shift_jis")} <hanako.sato@example.jp>
To: support@example.test
Subject: {ew_b("ソフトウェアの請求書について", "shift_jis", "shift_jis")}
Message-Id: <20261106130527.7F3E.HANAKO@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset="Shift_JIS"
Content-Transfer-Encoding: 8bit
X-Mailer: Sylpheed 3.7.0 (GTK+ 2.24.33; x86_64-pc-linux-gnu)"""
    body = text_bytes(plain, "shift_jis")
    assert b"\\" in body
    return headers(head) + body


def big5() -> bytes:
    plain = """您好：

我想查詢訂單10442的出貨進度，包裝上的許可標籤功能是否正常？

許美玲 敬上
"""
    html = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0 Transitional//EN">
<HTML><HEAD>
<META http-equiv=Content-Type content="text/html; charset=big5">
<META content="MSHTML 6.00.2900.2180" name=GENERATOR>
<STYLE></STYLE>
</HEAD>
<BODY bgColor=#ffffff>
<DIV><FONT size=2>您好：</FONT></DIV>
<DIV><FONT size=2>我想查詢訂單10442的出貨進度，包裝上的許可標籤功能是否正常？</FONT></DIV>
<DIV><FONT size=2>許美玲 敬上</FONT></DIV></BODY></HTML>
"""
    boundary = "----=_NextPart_000_0012_01DB2C3A.5F6E7D80"
    head = f"""From: {ew_b("許美玲", "big5", "big5")} <meiling.hsu@example.tw>
To: <support@example.test>
Subject: {ew_b("查詢訂單出貨進度", "big5", "big5")}
Date: Thu, 5 Nov 2026 16:45:12 +0800
Message-ID: <000f01db2c3a$5f6e7d80$0201a8c0@MEILINGPC>
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="{boundary}"
X-Priority: 3
X-MSMail-Priority: Normal
X-Mailer: Microsoft Outlook Express 6.00.2900.2180
X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2900.2180"""
    body = multipart(boundary, [
        part('Content-Type: text/plain;\n\tcharset="big5"\nContent-Transfer-Encoding: base64', b64_body(text_bytes(plain, "big5"))),
        part('Content-Type: text/html;\n\tcharset="big5"\nContent-Transfer-Encoding: base64', b64_body(text_bytes(html, "big5"))),
    ], preamble=b"This is a multi-part message in MIME format." + CRLF + CRLF)
    assert b"\\" in plain.encode("big5")
    return headers(head) + body


def koi8r() -> bytes:
    plain = """Здравствуйте!

Прошу вернуть деньги за заказ 10442, товар пришёл повреждённым.
Фотографии могу прислать по запросу.

С уважением,
Иван Петров
"""
    head = f"""Date: Sat, 7 Nov 2026 12:34:56 +0300
From: {ew_q("Иван Петров", "KOI8-R", "koi8_r")} <ivan.petrov@example.ru>
Reply-To: {ew_q("Иван Петров", "KOI8-R", "koi8_r")} <ivan.petrov@example.ru>
X-Priority: 3 (Normal)
Message-ID: <1234567890.20261107123456@example.ru>
To: support@example.test
Subject: {ew_b("Возврат денег за заказ 10442", "koi8-r", "koi8_r")}
MIME-Version: 1.0
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: quoted-printable
X-Mailer: The Bat! (v10.4.2) Professional"""
    return headers(head) + qp_body(text_bytes(plain, "koi8_r"))


def latin1() -> bytes:
    # The non-breaking space before "?" is French typography and the byte 0xA0 in Latin-1.
    plain = """Bonjour,

Je n'ai toujours pas reçu ma commande passée le 28 octobre.
Où en est la livraison\u00a0? Le colis était censé arriver hier.

Merci d'avance,
--\u0020
Hélène Lefèvre
"""
    head = f"""Message-ID: <c0ffee42-1d2e-4f5a-8b9c-0d1e2f3a4b5c@orange.example>
Date: Wed, 4 Nov 2026 09:05:33 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: fr
To: support@example.test
From: {ew_q("Hélène Lefèvre", "ISO-8859-1", "latin-1")} <helene.lefevre@orange.example>
Subject: {ew_q("Commande non reçue", "ISO-8859-1", "latin-1")}
Content-Type: text/plain; charset=ISO-8859-1; format=flowed
Content-Transfer-Encoding: 8bit"""
    return headers(head) + text_bytes(plain, "latin-1")


def html_only() -> bytes:
    html = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style type="text/css">
body { font-family: Arial, sans-serif; color: #333333; }
.hidden-preheader { display: none; }
</style></head>
<body><p>Hello&nbsp;team,</p><p>Tom &amp; Jerry&#39;s order<br>arrived broken.</p><div>Caf&#233; au lait &mdash; &euro;4 &lt;refund&gt;</div><ul><li>first item</li><li>second item</li></ul>
<p>Order&nbsp;#10442, sent from the web form.</p><script type="text/javascript">window.alert("tracking");</script></body></html>
"""
    head = """Date: Mon, 9 Nov 2026 17:02:11 +0000
To: Support <support@example.test>
From: Example Shop Contact Form <no-reply@shop.example>
Reply-To: Tom Baker <tom.baker@example.com>
Subject: Damaged delivery
Message-ID: <Xq3b9Zt1mK8pL2vR6sN4wY0cE5fH7jD@shop.example>
X-Mailer: PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable"""
    return headers(head) + qp_body(text_bytes(html, "utf-8"))


POSTFIX_NOTICE = """This is the mail system at host mail.example.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<nobody@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1
    <nobody@example.org>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

<gone@example.org>: host mx.example.org[192.0.2.25] said: 550 5.2.1
    <gone@example.org>: Mailbox disabled (in reply to RCPT TO command)
"""


def dsn_bounce() -> bytes:
    boundary = "4Xk2Pq0b1Zz9sWd.1793613605/mail.example.test"
    head = f"""Return-Path: <>
X-Original-To: support@example.test
Delivered-To: support@example.test
Received: by mail.example.test (Postfix)
	id 4Xk2Pq0b1Zz9sWd; Mon,  2 Nov 2026 10:00:05 +0000 (UTC)
Date: Mon,  2 Nov 2026 10:00:05 +0000 (UTC)
From: MAILER-DAEMON@mail.example.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@example.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <20261102100005.4Xk2Pq0b1Zz9sWd@mail.example.test>"""
    status = """Reporting-MTA: dns; mail.example.test
X-Postfix-Queue-ID: 4Xk2Pq0b1Zz9sWd
X-Postfix-Sender: rfc822; support@example.test
Arrival-Date: Mon,  2 Nov 2026 10:00:03 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.org
Original-Recipient: rfc822;nobody@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown

Final-Recipient: rfc822; gone@example.org
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.2.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.2.1 <gone@example.org>: Mailbox disabled
"""
    original = """Return-Path: <support@example.test>
Received: from hub.example.test (hub.example.test [192.0.2.10])
	by mail.example.test (Postfix) with ESMTPS id 4Xk2Pq0b1Zz9sWd
	for <nobody@example.org>; Mon,  2 Nov 2026 10:00:03 +0000 (UTC)
Date: Mon, 2 Nov 2026 10:00:02 +0000
From: Support <support@example.test>
To: nobody@example.org, gone@example.org
Subject: Your ticket #10442
Message-ID: <msg_01JD0000000000000000000000@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit
"""
    body = multipart(boundary, [
        part("Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii", text_bytes(POSTFIX_NOTICE, "ascii")),
        part("Content-Description: Delivery report\nContent-Type: message/delivery-status", text_bytes(status, "ascii")),
        part("Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers", text_bytes(original, "ascii")),
    ], preamble=b"This is a MIME-encapsulated message." + CRLF + CRLF, epilogue=b"")
    return headers(head) + body


def dsn_delayed() -> bytes:
    boundary = "5Ym3Qr1c2Aa0tXe.1793700001/mail.example.test"
    head = f"""Return-Path: <>
Received: by mail.example.test (Postfix)
	id 5Ym3Qr1c2Aa0tXe; Tue,  3 Nov 2026 10:00:01 +0000 (UTC)
Date: Tue,  3 Nov 2026 10:00:01 +0000 (UTC)
From: MAILER-DAEMON@mail.example.test (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: support@example.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <20261103100001.5Ym3Qr1c2Aa0tXe@mail.example.test>"""
    notice = """This is the mail system at host mail.example.test.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 3 hour(s).
It will be retried until it is 5 day(s) old.

For further assistance, please send mail to postmaster.

                   The mail system

<slow@example.net>: connect to mx.example.net[198.51.100.7]:25: Connection
    timed out
"""
    status = """Reporting-MTA: dns; mail.example.test
X-Postfix-Queue-ID: 5Ym3Qr1c2Aa0tXe
X-Postfix-Sender: rfc822; support@example.test
Arrival-Date: Tue,  3 Nov 2026 06:59:58 +0000 (UTC)

Final-Recipient: rfc822; slow@example.net
Original-Recipient: rfc822;slow@example.net
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.net[198.51.100.7]:25:
    Connection timed out
Will-Retry-Until: Sun,  8 Nov 2026 06:59:58 +0000 (UTC)
"""
    original = """Return-Path: <support@example.test>
Received: from hub.example.test (hub.example.test [192.0.2.10])
	by mail.example.test (Postfix) with ESMTPS id 5Ym3Qr1c2Aa0tXe
	for <slow@example.net>; Tue,  3 Nov 2026 06:59:58 +0000 (UTC)
Date: Tue, 3 Nov 2026 06:59:57 +0000
From: Support <support@example.test>
To: slow@example.net
Subject: Your appointment on Thursday
Message-ID: <msg_01JD0000000000000000000099@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Hello, this is the original message: your appointment is confirmed for Thursday at 14:00.
"""
    body = multipart(boundary, [
        part("Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii", text_bytes(notice, "ascii")),
        part("Content-Description: Delivery report\nContent-Type: message/delivery-status", text_bytes(status, "ascii")),
        part("Content-Description: Undelivered Message\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit",
             text_bytes(original, "ascii")),
    ], preamble=b"This is a MIME-encapsulated message." + CRLF + CRLF)
    return headers(head) + body


def auto_reply() -> bytes:
    plain = """Dank u voor uw bericht.

I am out of the office until 16 November with limited access to email. For urgent matters please contact Marieke de Vries (marieke.devries@fabrikam.example).

Met vriendelijke groet,
Peter Jansen
"""
    html = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>
<div style="font-family:Aptos,sans-serif;font-size:12pt">Dank u voor uw bericht.<br><br>I am out of the office until 16 November with limited access to email. For urgent matters please contact Marieke de Vries (marieke.devries@fabrikam.example).<br><br>Met vriendelijke groet,<br>Peter Jansen</div>
</body></html>
"""
    boundary = "_000_DB9PR02MB7A1B2C3D4E5F60718293A4B5C6D7DB9PR02MB7eurp_"
    head = f"""From: Peter Jansen <peter.jansen@fabrikam.example>
To: Support <support@example.test>
Subject: Automatic reply: Your ticket #10442
Thread-Topic: Your ticket #10442
Thread-Index: AQHbMzQ1NjU3ODk6Ozw9Pj9AQUJDREVGR0hJSks=
Date: Tue, 3 Nov 2026 08:01:02 +0000
Message-ID: <DB9PR02MB7A1B2C3D4E5F60718293A4B5C6D7@DB9PR02MB7000.eurprd02.prod.exchangelabs.com>
References: <msg_01JD0000000000000000000003@example.test>
In-Reply-To: <msg_01JD0000000000000000000003@example.test>
Content-Language: nl-NL
X-MS-Has-Attach:
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: peter.jansen@fabrikam.example
X-MS-TNEF-Correlator:
x-ms-exchange-organization-scl: -1
Auto-Submitted: auto-replied
Content-Type: multipart/alternative;
	boundary="{boundary}"
MIME-Version: 1.0"""
    body = multipart(boundary, [
        part('Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: base64', b64_body(text_bytes(plain, "utf-8"))),
        part('Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: base64', b64_body(text_bytes(html, "utf-8"))),
    ])
    return headers(head) + body


def bulk() -> bytes:
    plain = """** This week's deals
------------------------------------------------------------

Up to 40% off on kitchen appliances, this week only. Our best-selling blender is back in stock at €59.

Shop now: https://deals.example/c/kitchen?utm_source=newsletter&utm_medium=email

============================================================
You are receiving this email because you opted in at our website.
Unsubscribe: https://deals.example/u/abc123
"""
    html = """<!doctype html><html xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="UTF-8"><title>This week's deals</title>
<style type="text/css">p{margin:10px 0;padding:0;} table{border-collapse:collapse;} .mcnTextContent{word-break:break-word;}</style></head>
<body><center><table align="center" border="0" cellpadding="0" cellspacing="0" height="100%" width="100%" id="bodyTable"><tr><td class="mcnTextContent">
<h1>This week&rsquo;s deals</h1><p>Up to 40% off on kitchen appliances, this week only. Our best-selling blender is back in stock at &euro;59.</p>
<p><a href="https://deals.example/c/kitchen?utm_source=newsletter&amp;utm_medium=email">Shop now</a></p>
</td></tr></table></center></body></html>
"""
    boundary = "_----------=_MCPart_1029384756"
    head = f"""Return-Path: <bounce-mc.us21_1234567.987654-customer=example.com@mail123.suw11.mcsv.example>
Subject: {ew_q("This week’s deals", "utf-8", "utf-8")}
From: "Example Deals" <news@deals.example>
Reply-To: Example Deals <hello@deals.example>
To: Valued Customer <customer@example.com>
Date: Tue, 10 Nov 2026 15:00:12 +0000
Message-ID: <0f1e2d3c4b5a69788796a5b4c3d2e1f0.20261110150012.a1b2c3d4e5@mail123.suw11.mcsv.example>
X-Mailer: MailChimp Mailer - **CIDa1b2c3d4e5f6a7b8c9d0**
X-Campaign: mailchimpa1b2c3d4e5f6a7b8c9d0.0123456789
X-campaignid: mailchimpa1b2c3d4e5f6a7b8c9d0.0123456789
X-Report-Abuse: Please report abuse for this campaign here: https://mailchimp.example/contact/abuse/?u=a1b2c3&id=0123456789&e=f0e1d2c3b4
List-Unsubscribe: <https://deals.example/u/abc123>,
 <mailto:unsubscribe@deals.example?subject=unsubscribe>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
List-Id: Example Deals <deals.example>
Precedence: bulk
Feedback-ID: 21:21.1234567:us21:mc
Content-Type: multipart/alternative; boundary="{boundary}"
MIME-Version: 1.0"""
    body = qp_alternative(boundary, "utf-8", plain, html, "utf-8", preamble=b"This is a multi-part message in MIME format" + CRLF + CRLF)
    return headers(head) + body


def folded_headers() -> bytes:
    # Two adjacent encoded words (Q then B) separated only by folding whitespace: decoded, they join
    # without a space; the space between "sent" and the dash is inside the first word (a "_").
    first = ew_q("Question about the résumé I sent ", "UTF-8", "utf-8")
    second = ew_b("— and the 求职信 (cover letter)", "UTF-8", "utf-8")
    plain = """Hello,

Could you confirm you received my résumé and the cover letter? I sent both on Monday.

Thank you,
Mary
"""
    head = f"""Date: Thu, 12 Nov 2026 07:30:00 -0500
From: "Dr. Mary O'Brien, PhD"
 <mary.obrien@example.ie>
To: "Support, Team" <support@example.test>, bob@example.com,
 {ew_b("张三", "UTF-8", "utf-8")} <zhang.san@example.cn>
Cc: Project team: alice@example.com, "Bob B." <bob.b@example.com>;
Subject: {first}
 {second}
Message-ID:
 <msg_01JD0000000000000000000012@example.ie>
In-Reply-To: <CAH7r9xQ-ABC123@mail.gmail.com>
References: <msg_01JD0000000000000000000010@example.test>
 <msg_01JD0000000000000000000011@example.test>
	<CAH7r9xQ-ABC123@mail.gmail.com>
X-Long-Note: this header value is long enough that the sending client
	folded it across three lines, once with a tab and
 once with a space
User-Agent: Mutt/2.2.12 (2023-09-09)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit"""
    return headers(head) + text_bytes(plain, "utf-8")


def nested() -> bytes:
    inner_plain = """Hello,

The blender I bought stopped working after two days. I want my money back.

Regards,
Angry Customer
"""
    inner_html = "<div>Hello,</div><div>The blender I bought stopped working after two days. I want my money back.</div><div>Regards,<br>Angry Customer</div>\n"
    inner_boundary = "----=_Part_1234567_890123456.1793790000000"
    inner = headers(f"""Date: Wed, 4 Nov 2026 20:00:00 +0000 (UTC)
From: Angry Customer <angry.customer@example.net>
To: shop@example.test
Message-ID: <1234567890.1234567.1793790000000@mail.example.net>
Subject: Broken blender
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="{inner_boundary}"
X-Mailer: WebService/1.1.22734 YMailNorrin""") + multipart(inner_boundary, [
        part("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit", text_bytes(inner_plain, "ascii")),
        part("Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 7bit", text_bytes(inner_html, "ascii")),
    ])
    remember("nested Broken blender.eml (roughly; message/rfc822)", inner)

    plain = """Hi team,

Please see the forwarded complaint below; the customer wants a refund.
The order list is attached as a spreadsheet.

--
Nina Keller
Customer Care
"""
    html = ('<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body>'
            '<p>Hi team,</p><p>Please see the forwarded complaint below; the customer wants a refund.<br>'
            'The order list is attached as a spreadsheet.</p><div class="moz-signature">-- <br>Nina Keller<br>Customer Care<br>'
            '<img src="cid:part1.Ab3dEf9h.Xy7kLm2N@example.test" alt="signature"><img src="cid:spacer@example.test" alt=""></div>'
            '</body></html>\n')
    jpeg = remember("nested signature.jpg", tiny_jpeg())
    gif = remember("nested spacer gif", tiny_gif())
    csv = remember("nested Заказы октябрь 2026.csv", text_bytes("order;item;amount\n10442;Blender BX-200;59,00\n10443;Kettle K-10;24,50\n", "utf-8"))
    mixed = "------------Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    related = "------------Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8"
    alternative = "------------Qr9St8Uv7Wx6Yz5Ab4Cd3Ef2"
    alternative_part = part(f'Content-Type: multipart/alternative;\n boundary="{alternative}"', multipart(alternative, [
        part("Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 7bit", text_bytes(plain, "ascii")),
        part("Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 7bit", text_bytes(html, "ascii")),
    ]))
    related_part = part(f'Content-Type: multipart/related;\n boundary="{related}"', multipart(related, [
        alternative_part,
        part('Content-Type: image/jpeg; name="signature.jpg"\nContent-Disposition: inline; filename="signature.jpg"\n'
             "Content-Id: <part1.Ab3dEf9h.Xy7kLm2N@example.test>\nContent-Transfer-Encoding: base64", b64_body(jpeg)),
        # No filename anywhere: only the Content-ID makes it an inline image.
        part("Content-Type: image/gif\nContent-ID: <spacer@example.test>\nContent-Transfer-Encoding: base64", b64_body(gif)),
    ]))
    forwarded = part('Content-Type: message/rfc822; charset=UTF-8; name="Broken blender.eml"\n'
                     'Content-Disposition: attachment; filename="Broken blender.eml"', inner)
    spreadsheet = part("Content-Type: text/csv; charset=UTF-8\nContent-Disposition: attachment;\n"
                       " filename*0*=UTF-8''%D0%97%D0%B0%D0%BA%D0%B0%D0%B7%D1%8B%20%D0%BE%D0%BA%D1%82;\n"
                       " filename*1*=%D1%8F%D0%B1%D1%80%D1%8C%202026.csv\nContent-Transfer-Encoding: base64", b64_body(csv))
    head = f"""Message-ID: <5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d@example.test>
Date: Thu, 5 Nov 2026 09:30:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: Support <support@example.test>
From: Nina Keller <nina.keller@example.test>
Subject: Fwd: Broken blender
Content-Type: multipart/mixed; boundary="{mixed}\""""
    return headers(head) + multipart(mixed, [related_part, forwarded, spreadsheet],
                                     preamble=b"This is a multi-part message in MIME format." + CRLF)


def original_message() -> bytes:
    plain = """Hi,

That works for us. Please go ahead with the replacement and ship it to the Leeds office.

Thanks,
Raj

-----Original Message-----
From: Support [mailto:support@example.test]
Sent: 03 November 2026 16:10
To: Raj Patel
Subject: Replacement for order 10442

Hello Raj, we can send a replacement unit this week if you confirm the address.
"""
    head = """From: "Raj Patel" <raj.patel@northwind.example>
To: "'Support'" <support@example.test>
References: <msg_01JD0000000000000000000004@example.test>
In-Reply-To: <msg_01JD0000000000000000000004@example.test>
Subject: RE: Replacement for order 10442
Date: Tue, 3 Nov 2026 16:42:09 -0000
Message-ID: <002a01db2d7f$4c3b2a10$e4b17e30$@northwind.example>
MIME-Version: 1.0
Content-Type: text/plain;
	charset="us-ascii"
Content-Transfer-Encoding: 7bit
X-Mailer: Microsoft Office Outlook 12.0
Thread-Index: AdstfztAbCdEfGhIjKlMnOpQrStUvW==
Content-Language: en-gb"""
    return headers(head) + text_bytes(plain, "ascii")


def sent_block() -> bytes:
    plain = """Yes, Thursday afternoon is fine for the technician visit.

Get Outlook for Android

From: Support <support@example.test>
Sent: Tuesday, November 3, 2026 8:00:00 AM
To: Emma Wilson <emma.wilson@example.co.uk>
Subject: Technician visit for ticket #10448

Hello Emma, could the technician visit on Thursday afternoon?
"""
    head = """From: Emma Wilson <emma.wilson@example.co.uk>
To: Support <support@example.test>
Subject: Re: Technician visit for ticket #10448
Thread-Topic: Technician visit for ticket #10448
Thread-Index: AQHbTWVzc2FnZSBmcm9tIEFuZHJvaWQ=
Date: Tue, 3 Nov 2026 08:31:45 +0000
Message-ID: <AS8P190MB1234ABCDEF0123456789ABCDEF01@AS8P190MB1234.EURP190.PROD.OUTLOOK.COM>
References: <msg_01JD0000000000000000000005@example.test>
In-Reply-To: <msg_01JD0000000000000000000005@example.test>
Accept-Language: en-GB, en-US
Content-Language: en-GB
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64
MIME-Version: 1.0"""
    return headers(head) + b64_body(text_bytes(plain, "utf-8"))


CORPUS = {
    "outlook.eml": outlook,
    "gmail.eml": gmail,
    "apple_mail.eml": apple_mail,
    "gbk.eml": gbk,
    "gb2312.eml": gb2312,
    "iso2022jp.eml": iso2022jp,
    "shift_jis.eml": shift_jis,
    "big5.eml": big5,
    "koi8r.eml": koi8r,
    "latin1.eml": latin1,
    "html_only.eml": html_only,
    "dsn_bounce.eml": dsn_bounce,
    "dsn_delayed.eml": dsn_delayed,
    "auto_reply.eml": auto_reply,
    "bulk.eml": bulk,
    "folded_headers.eml": folded_headers,
    "nested.eml": nested,
    "original_message.eml": original_message,
    "sent_block.eml": sent_block,
}


def main() -> int:
    for name, build in CORPUS.items():
        data = build()
        assert b"\n" not in data.replace(CRLF, b""), name + ": bare LF"
        assert b"\r" not in data.replace(CRLF, b""), name + ": bare CR"
        header_block = data.split(CRLF + CRLF, 1)[0]
        assert all(b < 0x80 for b in header_block), name + ": 8-bit header"
        for line in data.split(CRLF):
            assert len(line) <= 998, name + ": line over 998 octets"
        with open(os.path.join(HERE, name), "wb") as out:
            out.write(data)
        print("%-22s %6d bytes" % (name, len(data)))
    for name, size in SIZES.items():
        print("  attachment %-45s %5d bytes" % (name, size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
