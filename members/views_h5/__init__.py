"""Member pages of members, one module a topic: signup (WeChat sign-in, 验证手机, 隐私政策),
card (会员卡 and its till code), profile (个人资料, identity, addresses), data_rights (download,
注销账号) and messages (系统消息). members/urls_h5.py routes to them."""
