from django.http import HttpRequest, HttpResponse


def pipelines(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
