package dev.fabric.spawner.member;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;

import static org.assertj.core.api.Assertions.assertThat;

class ApiDocumentOnDemandTest {

    @Test
    void springdocsBeansAreMadeOnDemandAndNoOtherBeans() {
        DefaultListableBeanFactory factory = new DefaultListableBeanFactory();
        RootBeanDefinition configuration = new RootBeanDefinition();
        configuration.setBeanClassName("org.springdoc.core.configuration.SpringDocConfiguration");
        factory.registerBeanDefinition("org.springdoc.core.configuration.SpringDocConfiguration", configuration);
        RootBeanDefinition madeBySpringdoc = new RootBeanDefinition(StringBuilder.class);
        madeBySpringdoc.setFactoryBeanName("org.springdoc.core.configuration.SpringDocConfiguration");
        madeBySpringdoc.setFactoryMethodName("openAPIBuilder");
        factory.registerBeanDefinition("openAPIBuilder", madeBySpringdoc);
        RootBeanDefinition resource = new RootBeanDefinition();
        resource.setBeanClassName("org.springdoc.webmvc.api.OpenApiWebMvcResource");
        factory.registerBeanDefinition("openApiResource", resource);
        factory.registerBeanDefinition("memberKeys", new RootBeanDefinition(MemberKeys.class));

        new ApiDocumentOnDemand().postProcessBeanFactory(factory);

        assertThat(factory.getBeanDefinition("org.springdoc.core.configuration.SpringDocConfiguration").isLazyInit()).isTrue();
        assertThat(factory.getBeanDefinition("openAPIBuilder").isLazyInit()).isTrue();
        assertThat(factory.getBeanDefinition("openApiResource").isLazyInit()).isTrue();
        assertThat(factory.getBeanDefinition("memberKeys").isLazyInit()).isFalse();
    }
}
