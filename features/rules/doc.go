// Package rules applies the official rule screen of the monitoring policy
// (部门筛查预警) to a household's features, with the monitoring line and the
// previous-year rural per-capita disposable income read per province and
// year from a TOML policy file, never from code.
//
// Each rule is a named check (Rules); a household can trip several. Every
// tripped rule yields its official risk type and a fact with the figures
// that tripped it, in Chinese and in English. Facts never name a diagnosis
// or any other health condition.
package rules
