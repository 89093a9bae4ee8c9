"""ISO 4217 currencies and their minor units: what a catalog may price in, and to how many decimals.

Only codes of money that is paid (no precious metals, no SDR, no test code `XTS`): a plan is sold
in a currency people pay with. The decimals are the standard's own (JPY 0, EUR 2, KWD 3), so a
catalog cannot ask for a price that no payment can settle (`0.5` yen, `1.005` euros).
"""

from __future__ import annotations

from typing import Final

_BY_DECIMALS: Final = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    2: (
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
        "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
        "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
        "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
        "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
        "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
    ),
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}

DECIMALS: Final[dict[str, int]] = {code: places for places, codes in _BY_DECIMALS.items() for code in codes.split()}
"""currency code -> the number of decimals its amounts may have"""


def decimals(code: str) -> int | None:
    """The minor units of an ISO 4217 currency; None for anything else (`usd`, `EURO`, `XAU`)."""
    return DECIMALS.get(code)
