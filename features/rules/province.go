package rules

import "strings"

// provinces are the province-level divisions by the first two digits of
// their statistical division code (GB/T 2260): public names, not data.
var provinces = map[string]string{
	"11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
	"21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
	"31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
	"41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
	"50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
	"61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
}

// ProvinceZh is the name of a province by its two-digit code; a code of
// no province (a policy entry may name any) is shown as "区划<code>".
func ProvinceZh(code string) string {
	if code == "national" {
		return "全国"
	}
	if n, ok := provinces[code]; ok {
		return n
	}
	return "区划" + code
}

// KeyZh is an entry's key (Entry.Key, "52/2025") in the office's words:
// "贵州省2025年"; a key of another form is returned as it is.
func KeyZh(key string) string {
	p, y, ok := strings.Cut(key, "/")
	if !ok {
		return key
	}
	return ProvinceZh(p) + y + "年"
}
