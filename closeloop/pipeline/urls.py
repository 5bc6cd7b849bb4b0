from django.urls import path

from . import views

app_name = "pipeline"

urlpatterns = [
    path("", views.deal_list_view, name="deal_list"),
    path("board/", views.board, name="board"),
    path("board/column/<int:stage_id>/", views.board_column, name="board_column"),
    path("new/", views.deal_create, name="deal_create"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("<int:pk>/move/", views.deal_move, name="deal_move"),
    path("<int:pk>/win/", views.deal_win, name="deal_win"),
    path("<int:pk>/lose/", views.deal_lose, name="deal_lose"),
    path("<int:pk>/reopen/", views.deal_reopen, name="deal_reopen"),
    path("<int:pk>/note/", views.deal_note, name="deal_note"),
    path("<int:pk>/trash/", views.deal_trash, name="deal_trash"),
    path("<int:pk>/restore/", views.deal_restore, name="deal_restore"),
]
