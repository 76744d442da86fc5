app_name = "mediators"

urlpatterns = []
