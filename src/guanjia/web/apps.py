from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "guanjia.web"
    label = "web"
