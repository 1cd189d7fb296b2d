"""factory-boy factories for rows whose creation is not itself under test.

Workflow state and anything audited is built through services (see conftest), so tests walk
the real write path.
"""

import factory

from planning.models import Category, Location, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Category {n}")
    level = factory.LazyAttribute(lambda o: 0 if o.parent is None else o.parent.level + 1)
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    unit_cost = "10.00"
    selling_price = "25.00"
    lead_time_days = 14


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"LOC-{n:03d}")
    name = factory.Sequence(lambda n: f"Location {n}")
