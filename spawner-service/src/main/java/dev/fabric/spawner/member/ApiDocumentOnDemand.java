package dev.fabric.spawner.member;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * A member's OpenAPI document ({@code /v3/api-docs}, springdoc) made when it is first asked for
 * instead of at start-up: springdoc's beans are lazy in the member profile. A member serves the same
 * document (docs/api/member.openapi.json), but its start-up does not load swagger's model, its
 * model converters and the Jackson 2 mappers swagger writes with (about 900 classes, in every member's
 * JDK AOT cache and resident; docs/operations.md, "Start-up and memory"). The spawner and the
 * registry keep theirs eager.
 */
final class ApiDocumentOnDemand implements BeanFactoryPostProcessor {

    private static final String SPRINGDOC = "org.springdoc.";

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        for (String name : beanFactory.getBeanDefinitionNames()) {
            BeanDefinition definition = beanFactory.getBeanDefinition(name);
            if (isSpringdoc(beanFactory, name, definition)) {
                definition.setLazyInit(true);
            }
        }
    }

    private static boolean isSpringdoc(ConfigurableListableBeanFactory beanFactory, String name, BeanDefinition definition) {
        if (name.startsWith(SPRINGDOC) || startsWithSpringdoc(definition.getBeanClassName())) {
            return true;
        }
        Class<?> type = definition.getResolvableType().resolve();
        if (type != null && type.getName().startsWith(SPRINGDOC)) {
            return true;
        }
        String factory = definition.getFactoryBeanName();
        return factory != null && (factory.startsWith(SPRINGDOC)
                || beanFactory.containsBeanDefinition(factory) && startsWithSpringdoc(beanFactory.getBeanDefinition(factory).getBeanClassName()));
    }

    private static boolean startsWithSpringdoc(String className) {
        return className != null && className.startsWith(SPRINGDOC);
    }
}
