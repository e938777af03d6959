export { SETTING_RULES, checkSetting, type SettingName, type SettingRule } from './rules';
export { definedOnly, ENGINE_DEFAULTS, SDK_DEFAULTS, CLI_DEFAULTS, MODEL_LOAD_DEFAULTS } from './defaults';
export { resolvePrecision } from './precision';
